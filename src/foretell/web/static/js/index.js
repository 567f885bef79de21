// The model list: filters as you type (the form also works without script, via ?q=).

const search = document.getElementById("model-search");
const count = document.getElementById("search-count");
const cards = [...document.querySelectorAll(".model-card")];

search.addEventListener("input", () => {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const card of cards) {
    const match = words.every((w) => card.dataset.search.includes(w));
    card.hidden = !match;
    shown += match ? 1 : 0;
  }
  count.textContent = `${shown} model${shown === 1 ? "" : "s"}`;
});
