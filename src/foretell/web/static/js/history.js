// Your predictions, newest first, a page at a time.

import { get, local } from "./api.js";
import { whenSignedIn } from "./app.js";
import { formatSeconds } from "./view.js";

const body = document.querySelector("#history tbody");
const more = document.getElementById("history-more");
const status = document.getElementById("history-status");
let next = "/v1/predictions";

function row(p) {
  const tr = document.createElement("tr");
  const link = document.createElement("a");
  link.href = `/p/${p.id}`;
  link.textContent = p.id;
  const modelLink = document.createElement("a");
  modelLink.href = `/${p.model}`;
  modelLink.textContent = p.model;
  const badge = document.createElement("span");
  badge.className = `badge status-${p.status}`;
  badge.textContent = p.status;
  const cells = [link, modelLink, badge, new Date(p.created_at).toLocaleString(), formatSeconds(p.metrics?.predict_time)];
  for (const c of cells) { const td = document.createElement("td"); td.append(c); tr.append(td); }
  return tr;
}

async function loadPage() {
  try {
    const page = await get(next);
    page.results.forEach((p) => body.append(row(p)));
    next = page.next ? local(page.next) : null;
    more.hidden = !next;
    status.textContent = body.childElementCount ? `${body.childElementCount} shown` : "No predictions yet.";
  } catch (e) {
    status.textContent = `Could not load your predictions: ${e.message}`;
  }
}

more.addEventListener("click", loadPage);
whenSignedIn(() => { body.replaceChildren(); next = "/v1/predictions"; loadPage(); });
