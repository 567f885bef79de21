// The model form: values from the schema-generated fields, uploads, previews, sliders.

import { upload } from "./api.js";

function parseNumber(text, kind) {
  const value = Number(text);
  if (text.trim() === "" || Number.isNaN(value)) throw new Error(`"${text}" is not a number`);
  if (kind === "integer" && !Number.isInteger(value)) throw new Error(`"${text}" is not a whole number`);
  return value;
}

function lines(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean);
}

function listItem(text, kind) {
  if (kind === "integer" || kind === "number") return parseNumber(text, kind);
  if (kind === "boolean") return text === "true";
  if (kind === "json") return JSON.parse(text);
  return text;
}

function isFileField(field) {
  const { kind, itemKind } = field.dataset;
  return kind === "file" || (kind === "list" && itemKind === "file");
}

// The input value of one field, or undefined to leave it out (the model's default applies);
// `fileUrl` gives the URL a chosen file goes by.
function fieldValue(field, fileUrl) {
  const { kind, itemKind, name } = field.dataset;
  const control = field.querySelector(`[name="${name}"]`);
  if (kind === "boolean") return control.checked;
  if (isFileField(field)) {
    const urls = [...control.files].map(fileUrl);
    urls.push(...lines(field.querySelector(".file-url").value));
    if (!urls.length && field.dataset.required) throw new Error("Choose a file or give its URL.");
    if (kind === "file") return urls[0];
    return urls.length ? urls : undefined;
  }
  const text = control.value;
  // An empty text box is an empty string; any other empty box leaves the input out.
  if (text === "" || (text.trim() === "" && kind !== "text" && kind !== "textarea")) return undefined;
  if (kind === "integer" || kind === "number") return parseNumber(text, kind);
  if (kind === "choice" || kind === "json") return JSON.parse(text);
  if (kind === "list") return lines(text).map((t) => listItem(t, itemKind));
  return text;
}

// With `lenient`, a field that can't be read is left out instead of reported.
function read(form, fileUrl, lenient) {
  const input = {};
  for (const field of form.querySelectorAll(".field")) {
    try {
      const value = fieldValue(field, fileUrl);
      if (value !== undefined) input[field.dataset.name] = value;
    } catch (e) {
      if (!lenient) throw { field: field.dataset.name, message: e.message };
    }
  }
  return input;
}

const fileKey = (file) => `${file.name}:${file.size}:${file.lastModified}`;

// Every field's value, after uploading chosen files through the Files API (once each:
// `uploads` remembers them between runs); throws {field, message} for a value it can't read.
export async function readInput(form, uploads) {
  for (const field of form.querySelectorAll(".field")) {
    if (!isFileField(field)) continue;
    for (const file of field.querySelector('input[type="file"]').files) {
      if (!uploads.has(fileKey(file))) uploads.set(fileKey(file), (await upload(file)).urls.get);
    }
  }
  return read(form, (file) => uploads.get(fileKey(file)));
}

// The input the snippets show: chosen files stand in by name until they are uploaded.
export function previewInput(form, uploads) {
  return read(form, (file) => uploads.get(fileKey(file)) || `https://example.com/${file.name}`, true);
}

function showPreview(field) {
  const preview = field.querySelector(".preview");
  const control = field.querySelector('input[type="file"]');
  preview.replaceChildren();
  for (const file of control.files) {
    const url = URL.createObjectURL(file);
    let media;
    if (file.type.startsWith("image/")) { media = document.createElement("img"); media.alt = `Preview of ${file.name}`; }
    else if (file.type.startsWith("audio/")) { media = document.createElement("audio"); media.controls = true; }
    else if (file.type.startsWith("video/")) { media = document.createElement("video"); media.controls = true; }
    const figure = document.createElement("figure");
    if (media) { media.src = url; figure.append(media); }
    const caption = document.createElement("figcaption");
    caption.textContent = `${file.name} (${Math.ceil(file.size / 1024)} KB)`;
    figure.append(caption);
    preview.append(figure);
  }
}

export function setUpFields(form) {
  for (const slider of form.querySelectorAll(".slider")) {
    const box = document.getElementById(slider.dataset.for);
    slider.addEventListener("input", () => { box.value = slider.value; box.dispatchEvent(new Event("input", { bubbles: true })); });
    box.addEventListener("input", () => { if (box.value !== "") slider.value = box.value; });
  }
  for (const field of form.querySelectorAll(".field-file, .field-list")) {
    const control = field.querySelector('input[type="file"]');
    if (control) control.addEventListener("change", () => showPreview(field));
  }
  form.addEventListener("reset", () => setTimeout(() => form.querySelectorAll(".preview").forEach((p) => p.replaceChildren())));
}

export function showFieldErrors(form, errors) {
  for (const box of form.querySelectorAll(".field-error")) { box.hidden = true; box.textContent = ""; }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  let first = null;
  for (const { field, message } of errors) {
    const box = document.getElementById(`in-${field}-error`);
    const control = document.getElementById(`in-${field}`);
    if (!box || !control) continue;
    box.textContent = message;
    box.hidden = false;
    control.setAttribute("aria-invalid", "true");
    first = first || control;
  }
  if (first) first.focus();
  return first !== null;
}
