// One prediction on screen: status, live output and logs over SSE, cancel, final state.

import { get, local, post } from "./api.js";
import { LiveOutput, renderOutput } from "./output.js";

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

export function isTerminal(status) {
  return TERMINAL.has(status);
}

export function formatSeconds(seconds) {
  if (seconds === undefined || seconds === null) return "";
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(2)} s`;
}

export class PredictionView {
  // `root` holds the parts of _prediction.html; `kind` is the model's output kind.
  constructor(root, kind, onChange) {
    this.root = root;
    this.kind = kind;
    this.onChange = onChange || (() => {});
    this.part = (role) => root.querySelector(`[data-role="${role}"]`);
    this.part("cancel").addEventListener("click", () => this.cancel());
  }

  show(prediction) {
    this.prediction = prediction;
    const status = this.part("status");
    status.textContent = prediction.status;
    status.className = `badge status-${prediction.status}`;
    const web = this.part("web");
    web.href = local(prediction.urls.web);
    web.hidden = location.pathname === web.getAttribute("href");
    this.part("cancel").hidden = isTerminal(prediction.status);
    const error = this.part("error");
    error.hidden = !prediction.error;
    error.textContent = prediction.error ? `Error: ${prediction.error}` : "";
    const predictTime = prediction.metrics && prediction.metrics.predict_time;
    this.part("elapsed").textContent = predictTime !== undefined ? `(ran in ${formatSeconds(predictTime)})` : "";
    if (!this.live || isTerminal(prediction.status)) renderOutput(this.part("output"), prediction.output, this.kind);
    this.part("logs").textContent = prediction.logs || "";
    this.onChange(prediction);
  }

  // Follows a running prediction's stream until `done`, then loads its final state.
  follow(prediction) {
    this.show(prediction);
    if (isTerminal(prediction.status)) return;
    if (!prediction.urls.stream) { this.poll(); return; }
    this.live = new LiveOutput(this.part("output"), this.kind);
    this.part("logs").textContent = "";
    const source = new EventSource(prediction.urls.stream);
    this.source = source;
    const status = this.part("status");
    source.addEventListener("output", (e) => {
      if (status.textContent !== "processing") { status.textContent = "processing"; status.className = "badge status-processing"; }
      this.live.add(e.data);
    });
    source.addEventListener("logs", (e) => { this.part("logs").textContent += e.data; });
    source.addEventListener("error", (e) => {
      if (e.data !== undefined) return; // the model's error: shown from the final state
      if (source.readyState === EventSource.CLOSED) { this.live = null; this.poll(); }
    });
    source.addEventListener("done", () => { source.close(); this.finish(); });
  }

  async finish() {
    this.live = null;
    this.show(await get(local(this.prediction.urls.get)));
  }

  // Without a stream (or after losing it): poll until the prediction is done.
  async poll() {
    let current = this.prediction;
    while (!isTerminal(current.status)) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      current = await get(local(current.urls.get));
      this.show(current);
    }
  }

  async cancel() {
    const button = this.part("cancel");
    button.disabled = true;
    try {
      const result = await post(local(this.prediction.urls.cancel));
      if (this.source && isTerminal(result.status)) { this.source.close(); this.live = null; this.show(result); }
    } finally {
      button.disabled = false;
    }
  }
}
