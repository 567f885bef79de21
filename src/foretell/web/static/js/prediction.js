// A prediction's page (its urls.web): everything about it, live while it runs.

import { ApiError, get } from "./api.js";
import { askForToken, whenSignedIn } from "./app.js";
import { PredictionView, formatSeconds } from "./view.js";

const root = document.getElementById("prediction");
const id = root.dataset.id;

function outputKind(model) {
  const output = model.latest_version?.openapi_schema?.components?.schemas?.Output || {};
  if (output["x-cog-array-display"] === "concatenate") return "stream";
  if (output.type === "array") return "list";
  return output.format === "uri" ? "file" : output.type === "string" ? "text" : "json";
}

function showTimings(p) {
  const rows = [["Created", p.created_at], ["Started", p.started_at], ["Completed", p.completed_at]]
    .filter(([, v]) => v).map(([k, v]) => [k, new Date(v).toLocaleString()]);
  for (const [k, v] of Object.entries(p.metrics || {})) rows.push([k, k.endsWith("_time") ? formatSeconds(v) : String(v)]);
  const list = document.getElementById("prediction-timings");
  list.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    list.append(dt, dd);
  }
  document.getElementById("prediction-input").textContent = JSON.stringify(p.input, null, 2);
}

async function showWebhooks(p) {
  if (!p.webhook) return;
  const { results } = await get(`/v1/predictions/${p.id}/webhooks`);
  const body = document.querySelector("#webhook-deliveries tbody");
  body.replaceChildren();
  for (const d of results) {
    const row = document.createElement("tr");
    const cells = [d.event, d.url, d.status, d.attempts, d.last_status ?? d.last_error ?? "", d.finished_at ? new Date(d.finished_at).toLocaleString() : ""];
    for (const c of cells) { const td = document.createElement("td"); td.textContent = String(c); row.append(td); }
    body.append(row);
  }
  if (!results.length) body.innerHTML = '<tr><td colspan="6">None yet.</td></tr>';
}

async function load() {
  try {
    const p = await get(`/v1/predictions/${id}`);
    const model = await get(`/v1/models/${p.model}`).catch(() => ({}));
    const view = new PredictionView(root, outputKind(model), (current) => {
      showTimings(current);
      showWebhooks(current).catch(() => {});
    });
    view.follow(p);
  } catch (e) {
    const status = root.querySelector('[data-role="status"]');
    if (e instanceof ApiError && e.status === 401) { status.textContent = "sign in to see it"; askForToken(); }
    else if (e instanceof ApiError && e.status === 404) status.textContent = "not found (or not yours)";
    else status.textContent = `could not load: ${e.message}`;
  }
}

whenSignedIn(load);
