// Calls to the server's own /v1 API with the token kept in this tab's sessionStorage.

const KEY = "foretell.token";
export const authRequired = document.body.dataset.auth === "on";

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

function headers(extra) {
  const h = { ...extra };
  const t = token();
  if (authRequired && t) h.Authorization = `Bearer ${t}`;
  return h;
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { detail: text }; }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function get(path, tokenOverride) {
  const h = headers({ Accept: "application/json" });
  if (tokenOverride) h.Authorization = `Bearer ${tokenOverride}`;
  return parse(await fetch(path, { headers: h }));
}

export async function post(path, body, extraHeaders) {
  const response = await fetch(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "application/json", ...extraHeaders }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return parse(response);
}

// Uploads one browser File through the Files API; the model reads it from the server's storage.
export async function upload(file) {
  const form = new FormData();
  form.append("content", file, file.name);
  form.append("filename", file.name);
  if (file.type) form.append("type", file.type);
  return parse(await fetch("/v1/files", { method: "POST", headers: headers({}), body: form }));
}

// A same-origin path for an absolute API URL the server sent (urls.get, urls.cancel, next).
export function local(url) {
  const u = new URL(url, location.href);
  return u.pathname + u.search;
}
