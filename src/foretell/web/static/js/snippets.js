// Fills the server's snippet templates with the form's input (mirrors web/snippets.py).

const MARKER = "@@INPUT@@";

function pythonLiteral(value, depth) {
  const pad = "    ".repeat(depth);
  const inner = "    ".repeat(depth + 1);
  if (Array.isArray(value) && value.length) {
    return `[\n${value.map((v) => `${inner}${pythonLiteral(v, depth + 1)},`).join("\n")}\n${pad}]`;
  }
  if (value && typeof value === "object" && Object.keys(value).length) {
    const items = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pythonLiteral(v, depth + 1)},`);
    return `{\n${items.join("\n")}\n${pad}}`;
  }
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null) return "None";
  return JSON.stringify(value);
}

function renderInput(language, value) {
  if (language === "curl") return JSON.stringify({ input: value }).replaceAll("'", "'\\''");
  if (language === "python") return pythonLiteral(value, 0);
  return JSON.stringify(value, null, 2);
}

export function updateSnippets(input) {
  for (const code of document.querySelectorAll("code[data-template]")) {
    code.textContent = code.dataset.template.replaceAll(MARKER, renderInput(code.dataset.language, input));
  }
}

export function setUpCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      try { await navigator.clipboard.writeText(text); button.textContent = "Copied"; }
      catch { button.textContent = "Select and copy"; }
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  }
}
