"""The Redis queue's Lua scripts: each step of a lease is one atomic round trip.

Per model: the stream of items (`S`, which holds each item until it is acked), the lease
expiries (`L`, a sorted set of entry id -> expiry on the queue's clock; 0 for an item given
back), the token of the live claim of each entry (`T`, a hash) and its claim count (`A`, a
hash). What waits is ordered by one sorted set per priority level (`W0`..`W2`: padded entry
id -> fair-share round; ties go by the padded id, so by arrival) and `R`, a hash of each
level's rounds ("<level>:<account>" -> that account's next round, "<level>:" -> the round
claimed last): foretell.queue.lanes explains the rounds. `I` maps each prediction id to
"model\\nentry id", for `remove` and `position`; the epoch key, a random id, tells a Redis
that lost its data. The caller passes `now` (its clock), so a lease is judged on one clock
whoever checks it.
"""

from __future__ import annotations

#: the priority levels, one sorted set each (foretell.core.prediction.PRIORITIES)
LEVELS = 3

#: a stream entry id as a member of W: "<ms>-<seq>" with seq zero-padded, so that members
#: of one round sort by arrival (ms is 13 digits until the year 2286)
_PAD = """
local function pad(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return string.format('%s-%010d', ms, tonumber(seq))
end
local function unpad(member)
  local ms, seq = string.match(member, '^(%d+)-(%d+)$')
  return ms .. '-' .. tonumber(seq)
end
"""

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

#: KEYS S, I, W of its level, R, P; ARGV item, prediction id, model, level, account -> the
#: entry id. Its round: the account's next, but never before the round being claimed. It
#: takes over the place RESERVE held for it, if any
PUT = (
    _PAD
    + """
redis.call('ZREM', KEYS[5], ARGV[2])
local id = redis.call('XADD', KEYS[1], '*', 'item', ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3] .. '\\n' .. id)
local level, account = ARGV[4] .. ':', ARGV[4] .. ':' .. ARGV[5]
local current = tonumber(redis.call('HGET', KEYS[4], level) or '0')
local round = math.max(current, tonumber(redis.call('HGET', KEYS[4], account) or '0'))
redis.call('HSET', KEYS[4], account, round + 1)
redis.call('ZADD', KEYS[3], round, pad(id))
return id
"""
)

#: KEYS the epoch, then S, L, T, A, W0..W2, R per model (MODEL_KEYS), in the caller's order;
#: ARGV now, expires, nonce -> {model index, token, attempt, item} or {0, last entry id of
#: each stream}. A token is "<entry id>/<epoch>/<nonce>"; the epoch is set here if missing
#: (Redis is new)
MODEL_KEYS = 8
CLAIM = (
    _PAD
    + """
local now, expires, nonce = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local n = (#KEYS - 1) / 8
local function key(i, k) return KEYS[1 + 8 * (i - 1) + k] end
local function item_of(i, id)
  local got = redis.call('XRANGE', key(i, 1), id, id)
  return got[1] and got[1][2]
end
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
-- an item given back or whose lease ran out, the longest overdue first
for _ = 1, 16 do
  local best, best_id, best_score = nil, nil, nil
  for i = 1, n do
    local row = redis.call('ZRANGEBYSCORE', key(i, 2), '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
    if row[1] and (best == nil or tonumber(row[2]) < best_score) then
      best, best_id, best_score = i, row[1], tonumber(row[2])
    end
  end
  if best == nil then break end
  local fields = item_of(best, best_id)
  if fields then return lease(best, best_id, fields) end
  -- deleted from outside the queue: nothing left to run
  redis.call('ZREM', key(best, 2), best_id)
  redis.call('HDEL', key(best, 3), best_id)
  redis.call('HDEL', key(best, 4), best_id)
end
-- else the first waiting item of the highest level, in the first model that has one
for level = 0, 2 do
  for i = 1, n do
    for _ = 1, 16 do
      local top = redis.call('ZRANGE', key(i, 5 + level), 0, 0, 'WITHSCORES')
      if not top[1] then break end
      redis.call('ZREM', key(i, 5 + level), top[1])
      local current = tonumber(redis.call('HGET', key(i, 8), level .. ':') or '0')
      redis.call('HSET', key(i, 8), level .. ':', math.max(current, tonumber(top[2])))
      local id = unpad(top[1])
      local fields = item_of(i, id)
      if fields then return lease(i, id, fields) end
      -- else deleted from outside the queue: nothing left to run
    end
  end
end
local last = {0}
for i = 1, n do
  local newest = redis.call('XREVRANGE', key(i, 1), '+', '-', 'COUNT', 1)
  last[i + 1] = newest[1] and newest[1][1] or '0-0'
end
return last
"""
)

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

#: KEYS S, L, T, A, I, the epoch; ARGV entry, token, now, prediction id, model -> 1, or
#: 0 if lost (an ack of a lease Redis forgot with all its data is fine: nothing to undo)
ACK = (
    _HOLDING
    + """
local entry = ARGV[1]
if holding(KEYS[2], KEYS[3], KEYS[6], entry, ARGV[2], tonumber(ARGV[3])) == 0 then return 0 end
redis.call('XDEL', KEYS[1], entry)
redis.call('ZREM', KEYS[2], entry)
redis.call('HDEL', KEYS[3], entry)
redis.call('HDEL', KEYS[4], entry)
if redis.call('HGET', KEYS[5], ARGV[4]) == ARGV[5] .. '\\n' .. entry then
  redis.call('HDEL', KEYS[5], ARGV[4])
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

#: KEYS S, L, T, A, I, W0..W2; ARGV prediction id, "model\\nentry", entry -> 1 if it was
#: waiting (new or given back) and is gone now, else 0
REMOVE = (
    _PAD
    + """
local pid, ref, entry = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', KEYS[5], pid) ~= ref then return 0 end
if redis.call('HEXISTS', KEYS[3], entry) == 1 then return 0 end  -- claimed
if not redis.call('XRANGE', KEYS[1], entry, entry)[1] then
  redis.call('HDEL', KEYS[5], pid)
  return 0
end
redis.call('XDEL', KEYS[1], entry)
redis.call('ZREM', KEYS[2], entry)
redis.call('HDEL', KEYS[4], entry)
redis.call('HDEL', KEYS[5], pid)
for k = 6, 8 do redis.call('ZREM', KEYS[k], pad(entry)) end
return 1
"""
)

#: KEYS[1] L, KEYS[2..4] W0..W2: the items never claimed plus the items given back
_WAITING = """
local waiting = redis.call('ZCOUNT', KEYS[1], 0, 0)
for k = 2, 4 do waiting = waiting + redis.call('ZCARD', KEYS[k]) end
"""

#: KEYS L, W0..W2 -> how many wait (_WAITING)
DEPTH = _WAITING + "return waiting\n"

#: KEYS L, W0..W2, P (prediction id -> when its place lapses); ARGV prediction id, cap,
#: now, lapses -> 1 if a place is held for it, 0 if DEPTH's count plus the places held
#: reach the cap
RESERVE = (
    _WAITING
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[3])
if waiting + redis.call('ZCARD', KEYS[5]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
return 1
"""
)

#: KEYS L, T, W0..W2; ARGV entry, now -> how many of the model's waiting items go before
#: it, or -1 if it isn't waiting. Claimed first: items given back and expired leases' items
POSITION = (
    _PAD
    + """
local entry, now = ARGV[1], tonumber(ARGV[2])
local overdue = redis.call('ZCOUNT', KEYS[1], '-inf', now)
if redis.call('HEXISTS', KEYS[2], entry) == 0 then
  local score = redis.call('ZSCORE', KEYS[1], entry)
  if score then return redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. score) end
end
local ahead = overdue
for k = 3, 5 do
  local rank = redis.call('ZRANK', KEYS[k], pad(entry))
  if rank then return ahead + rank end
  ahead = ahead + redis.call('ZCARD', KEYS[k])
end
return -1
"""
)
