// The playground's entry point: the sign-in dialog, then the page's own script.

import { ApiError, authRequired, get, setToken, token } from "./api.js";

const listeners = [];

// Calls `fn` now if signed in (or auth is off) and again after every sign-in.
export function whenSignedIn(fn) {
  listeners.push(fn);
  if (!authRequired || token()) fn();
}

export function askForToken() {
  const dialog = document.getElementById("token-dialog");
  document.getElementById("token-error").textContent = "";
  if (!dialog.open) dialog.showModal();
  document.getElementById("token-input").focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = document.getElementById("token-input");
  const error = document.getElementById("token-error");
  const value = input.value.trim();
  if (!value) { error.textContent = "Paste a token first."; return; }
  try {
    const account = await get("/v1/account", value);
    setToken(value);
    input.value = "";
    document.getElementById("token-dialog").close();
    showAccount(account);
    listeners.forEach((fn) => fn());
  } catch (e) {
    error.textContent = e instanceof ApiError && e.status === 401
      ? "This server does not know that token." : `Could not check the token: ${e.message}`;
  }
}

function showAccount(account) {
  document.getElementById("account-name").textContent = account ? `Signed in as ${account.username}` : "";
  document.getElementById("sign-in").hidden = Boolean(account);
  document.getElementById("sign-out").hidden = !account;
}

function setUpAuth() {
  if (!authRequired) return;
  document.getElementById("token-form").addEventListener("submit", signIn);
  document.getElementById("token-cancel").addEventListener("click", () => document.getElementById("token-dialog").close());
  document.getElementById("sign-in").addEventListener("click", askForToken);
  document.getElementById("sign-out").addEventListener("click", () => {
    setToken(null);
    showAccount(null);
    location.reload(); // drop whatever this account's data the page holds
  });
  if (!token()) { showAccount(null); askForToken(); return; }
  get("/v1/account").then(showAccount).catch(() => { setToken(null); showAccount(null); askForToken(); });
}

setUpAuth();
const page = document.getElementById("main").dataset.page;
const modules = { index: "./index.js", model: "./model.js", prediction: "./prediction.js", history: "./history.js" };
// body[data-ready] says the page's script is set up (tests wait for it)
const ready = () => { document.body.dataset.ready = "true"; };
if (modules[page]) import(modules[page]).then(ready);
else ready();
