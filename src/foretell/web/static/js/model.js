// The model page: run the form, follow the prediction, keep the snippets in step.

import { ApiError, get, post } from "./api.js";
import { askForToken, whenSignedIn } from "./app.js";
import { previewInput, readInput, setUpFields, showFieldErrors } from "./form.js";
import { setUpCopyButtons, updateSnippets } from "./snippets.js";
import { PredictionView, isTerminal } from "./view.js";

const form = document.getElementById("run-form");
const model = form.dataset.model;
const uploads = new Map();
const runError = document.getElementById("run-error");
const runBox = document.getElementById("run");
const view = new PredictionView(runBox, form.dataset.outputKind, (p) => {
  document.getElementById("run-button").disabled = !isTerminal(p.status);
  if (isTerminal(p.status)) loadHistory();
});

function fieldErrors(error) {
  // 422: Replicate's invalid_fields name each input as `input.<name>` (or the field itself)
  return (error.body.invalid_fields || []).map((f) => ({
    field: String(f.field || "").replace(/^input\./, ""),
    message: f.description || f.type,
  }));
}

function webhookFields() {
  const url = document.getElementById("run-webhook").value.trim();
  if (!url) return {};
  const events = [...form.querySelectorAll('[name="webhook-event"]:checked')].map((b) => b.value);
  return { webhook: url, webhook_events_filter: events };
}

function say(message) {
  runError.textContent = message;
  runError.hidden = !message;
}

async function run(event) {
  event.preventDefault();
  say("");
  showFieldErrors(form, []);
  if (!form.checkValidity()) {
    const invalid = [...form.querySelectorAll(":invalid")].filter((c) => c.id.startsWith("in-"));
    showFieldErrors(form, invalid.map((c) => ({ field: c.id.slice(3), message: c.validationMessage })));
    return;
  }
  const button = document.getElementById("run-button");
  button.disabled = true;
  try {
    const input = await readInput(form, uploads);
    updateSnippets(input);
    const prediction = await post(`/v1/models/${model}/predictions`, { input, ...webhookFields() });
    document.getElementById("run-placeholder").hidden = true;
    runBox.hidden = false;
    view.follow(prediction);
  } catch (e) {
    button.disabled = false;
    if (e.field) { showFieldErrors(form, [e]); return; }
    if (e instanceof ApiError && e.status === 401) { say("Sign in first."); askForToken(); return; }
    if (e instanceof ApiError && e.status === 422 && showFieldErrors(form, fieldErrors(e))) return;
    say(e instanceof ApiError ? `${e.message} (HTTP ${e.status})` : e.message);
  }
}

async function loadHistory() {
  const list = document.getElementById("model-history");
  try {
    const page = await get("/v1/predictions");
    const mine = page.results.filter((p) => p.model === model).slice(0, 10);
    list.replaceChildren();
    for (const p of mine) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/p/${p.id}`;
      link.textContent = p.id;
      item.append(link, ` ${p.status} · ${new Date(p.created_at).toLocaleString()}`);
      list.append(item);
    }
    if (!mine.length) list.innerHTML = '<li class="hint">None yet.</li>';
  } catch { /* not signed in: the hint stays */ }
}

setUpFields(form);
setUpCopyButtons();
form.addEventListener("submit", run);
for (const type of ["input", "change"]) form.addEventListener(type, () => updateSnippets(previewInput(form, uploads)));
whenSignedIn(loadHistory);
document.getElementById("run-button").disabled = form.dataset.described !== "true";
updateSnippets(previewInput(form, uploads));
