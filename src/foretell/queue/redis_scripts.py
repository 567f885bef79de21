"""The Redis queue's Lua scripts: each step of a lease is one atomic round trip.

Per model: the stream of items (`S`, one consumer group), the lease expiries (`L`, a sorted
set of entry id -> expiry on the queue's clock; 0 for an item given back), the token of the
live claim of each entry (`T`, a hash) and its claim count (`A`, a hash). `I` maps each
prediction id to "model\\nentry id", for `remove`; the epoch key, a random id, tells a Redis that lost
its data. The caller passes `now` (its clock), so a lease is judged on one clock whoever
checks it.
"""

from __future__ import annotations

#: shared by the scripts that check a lease (KEYS[l], KEYS[t], KEYS[e]: its model's expiries
#: and tokens, the epoch): 1 while it holds (its token is the entry's, its expiry ahead);
#: 2 if Redis lost its data since the claim (the epoch in the token isn't Redis's, and
#: nothing of the entry is left): the runner goes on, the store's lease still guards it;
#: 0 if it is lost (expired, claimed again, acked, given back)
_HOLDING = """
local function holding(l, t, e, entry, token, now)
  local current = redis.call('HGET', t, entry)
  if current == token then
    local expires = redis.call('ZSCORE', l, entry)
    if expires ~= false and tonumber(expires) > now then return 1 end
    return 0
  end
  local claimed_in = string.match(token, '^[^/]*/([^/]*)/')
  if current == false and redis.call('GET', e) ~= claimed_in then return 2 end
  return 0
end
"""

#: KEYS S, I; ARGV item, prediction id, model -> the entry id
PUT = """
local id = redis.call('XADD', KEYS[1], '*', 'item', ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3] .. '\\n' .. id)
return id
"""

#: KEYS the epoch, then S, L, T, A per model, in the caller's order; ARGV now, expires, group,
#: consumer, nonce -> {model index, token, attempt, item} or {0, last entry id of each stream}.
#: A token is "<entry id>/<epoch>/<nonce>"; the epoch is set here if missing (Redis is new)
CLAIM = """
local now, expires = tonumber(ARGV[1]), ARGV[2]
local group, consumer, nonce = ARGV[3], ARGV[4], ARGV[5]
local n = (#KEYS - 1) / 4
local function key(i, k) return KEYS[1 + 4 * (i - 1) + k] end
local function lease(i, id, fields)
  local epoch = redis.call('SET', KEYS[1], nonce, 'NX', 'GET') or nonce
  local token = id .. '/' .. epoch .. '/' .. nonce
  redis.call('ZADD', key(i, 2), expires, id)
  redis.call('HSET', key(i, 3), id, token)
  local attempt = redis.call('HINCRBY', key(i, 4), id, 1)
  for f = 1, #fields, 2 do
    if fields[f] == 'item' then return {i, token, attempt, fields[f + 1]} end
  end
  return redis.error_reply('queue entry ' .. id .. ' holds no item')
end
-- an item given back or whose lease ran out, the longest overdue first; XCLAIM only those
for _ = 1, 16 do
  local best, best_id, best_score = nil, nil, nil
  for i = 1, n do
    local row = redis.call('ZRANGEBYSCORE', key(i, 2), '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
    if row[1] and (best == nil or tonumber(row[2]) < best_score) then
      best, best_id, best_score = i, row[1], tonumber(row[2])
    end
  end
  if best == nil then break end
  local got = redis.call('XCLAIM', key(best, 1), group, consumer, 0, best_id)
  if got[1] then return lease(best, best_id, got[1][2]) end
  -- deleted from outside the queue: nothing left to run
  redis.call('ZREM', key(best, 2), best_id)
  redis.call('HDEL', key(best, 3), best_id)
  redis.call('HDEL', key(best, 4), best_id)
end
-- else the oldest new item of the first model that has one
for i = 1, n do
  local args = {'XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', key(i, 1), '>'}
  local got = redis.pcall(unpack(args))
  if type(got) == 'table' and got.err then  -- NOGROUP: a new (or wiped) Redis
    redis.call('XGROUP', 'CREATE', key(i, 1), group, '0', 'MKSTREAM')
    got = redis.call(unpack(args))
  end
  if got and got[1] and got[1][2][1] then
    local entry = got[1][2][1]
    return lease(i, entry[1], entry[2])
  end
end
local last = {0}
for i = 1, n do
  local newest = redis.call('XREVRANGE', key(i, 1), '+', '-', 'COUNT', 1)
  last[i + 1] = newest[1] and newest[1][1] or '0-0'
end
return last
"""

#: KEYS L, T, the epoch; ARGV entry, token, now, expires, nonce -> 1 if extended, 2 if
#: taken up again after Redis lost its data, 0 if not held
EXTEND = (
    _HOLDING
    + """
local state = holding(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], tonumber(ARGV[3]))
if state == 0 then return 0 end
if state == 2 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('SET', KEYS[3], ARGV[5], 'NX')
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return state
"""
)

#: KEYS S, L, T, A, I, the epoch; ARGV entry, token, now, group, prediction id, model -> 1, or
#: 0 if lost (an ack of a lease Redis forgot with all its data is fine: nothing to undo)
ACK = (
    _HOLDING
    + """
local entry = ARGV[1]
if holding(KEYS[2], KEYS[3], KEYS[6], entry, ARGV[2], tonumber(ARGV[3])) == 0 then return 0 end
redis.call('XACK', KEYS[1], ARGV[4], entry)
redis.call('XDEL', KEYS[1], entry)
redis.call('ZREM', KEYS[2], entry)
redis.call('HDEL', KEYS[3], entry)
redis.call('HDEL', KEYS[4], entry)
if redis.call('HGET', KEYS[5], ARGV[5]) == ARGV[6] .. '\\n' .. entry then
  redis.call('HDEL', KEYS[5], ARGV[5])
end
return 1
"""
)

#: KEYS L, T, the epoch; ARGV entry, token, now -> 1 if given back (claimable at once), 0
#: if not held (or forgotten by Redis, item and all: nothing to give back)
RELEASE = (
    _HOLDING
    + """
if holding(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], tonumber(ARGV[3])) ~= 1 then
  return 0
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], 0, ARGV[1])
return 1
"""
)

#: KEYS S, L, T, A, I; ARGV prediction id, "model\\nentry", entry, group -> 1 if it was
#: waiting (new or given back) and is gone now, else 0
REMOVE = """
local pid, ref, entry = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', KEYS[5], pid) ~= ref then return 0 end
if redis.call('HEXISTS', KEYS[3], entry) == 1 then return 0 end  -- claimed
if not redis.call('XRANGE', KEYS[1], entry, entry)[1] then
  redis.call('HDEL', KEYS[5], pid)
  return 0
end
redis.pcall('XACK', KEYS[1], ARGV[4], entry)  -- given back: it is still pending
redis.call('XDEL', KEYS[1], entry)
redis.call('ZREM', KEYS[2], entry)
redis.call('HDEL', KEYS[4], entry)
redis.call('HDEL', KEYS[5], pid)
return 1
"""

#: KEYS S, L; ARGV group -> items never claimed plus items given back
DEPTH = """
local pending = 0
local summary = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if type(summary) == 'table' and not summary.err then pending = summary[1] end
return redis.call('XLEN', KEYS[1]) - pending + redis.call('ZCOUNT', KEYS[2], 0, 0)
"""
