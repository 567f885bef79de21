// Renders a prediction's output by kind: streamed text, images, audio, video, files, JSON.

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg)$/i;
const AUDIO = /\.(wav|mp3|ogg|oga|flac|m4a|aac)$/i;
const VIDEO = /\.(mp4|webm|mov|m4v|ogv)$/i;

export function isUrl(value) {
  return typeof value === "string" && /^(https?:\/\/|data:)/.test(value) && !/\s/.test(value);
}

function fileName(url) {
  if (url.startsWith("data:")) return "file";
  const path = new URL(url, location.href).pathname;
  return decodeURIComponent(path.split("/").pop() || "file");
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// One file output: shown inline where the browser can, always with a download link.
export function fileView(url) {
  const name = fileName(url);
  const mime = url.startsWith("data:") ? url.slice(5, url.indexOf(";")) : "";
  const box = el("figure", { class: "file-output" });
  if (IMAGE.test(name) || mime.startsWith("image/")) box.append(el("img", { src: url, alt: `Output image ${name}` }));
  else if (AUDIO.test(name) || mime.startsWith("audio/")) box.append(el("audio", { src: url, controls: "" }));
  else if (VIDEO.test(name) || mime.startsWith("video/")) box.append(el("video", { src: url, controls: "" }));
  const caption = el("figcaption");
  caption.append(el("a", { href: url, download: name }, `Download ${name}`));
  box.append(caption);
  return box;
}

function collectUrls(value, found = []) {
  if (isUrl(value)) found.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collectUrls(v, found));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => collectUrls(v, found));
  return found;
}

// Replaces `container`'s content with the whole output; `kind` is the schema's (fields.py).
export function renderOutput(container, value, kind) {
  container.replaceChildren();
  if (value === null || value === undefined) return;
  if (kind === "stream" && Array.isArray(value)) {
    container.append(el("pre", { class: "text-output" }, value.join("")));
  } else if (isUrl(value)) {
    container.append(fileView(value));
  } else if (typeof value === "string") {
    container.append(el("pre", { class: "text-output" }, value));
  } else if (Array.isArray(value) && value.every((v) => isUrl(v))) {
    const gallery = el("div", { class: "gallery" });
    value.forEach((v) => gallery.append(fileView(v)));
    container.append(gallery);
  } else if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    const list = el("ol", { class: "items" });
    value.forEach((v) => list.append(el("li", {}, v)));
    container.append(list);
  } else {
    container.append(el("pre", { class: "json" }, JSON.stringify(value, null, 2)));
    const gallery = el("div", { class: "gallery" });
    collectUrls(value).forEach((v) => gallery.append(fileView(v)));
    if (gallery.childElementCount) container.append(gallery);
  }
}

// Live output from SSE `output` events: tokens append to one text node as they arrive.
export class LiveOutput {
  constructor(container, kind) {
    this.container = container;
    this.kind = kind;
    this.items = [];
    container.replaceChildren();
  }

  add(data) {
    if (this.kind === "stream") {
      if (!this.text) {
        this.text = el("pre", { class: "text-output streaming" });
        this.container.append(this.text);
      }
      this.text.textContent += data;
      return;
    }
    let value = data;
    try { value = JSON.parse(data); } catch { /* a plain string item */ }
    if (this.kind === "list") { this.items.push(value); renderOutput(this.container, this.items, this.kind); }
    else renderOutput(this.container, value, this.kind);
  }
}
