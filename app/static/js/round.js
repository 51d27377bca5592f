// The round's number keypad: gloved keepers tap digits instead of typing a weight.
document.addEventListener("click", (event) => {
  const key = event.target.closest("[data-key]");
  if (!key) return;
  const pad = key.closest("[data-keypad-for]");
  const input = pad && document.getElementById(pad.dataset.keypadFor);
  if (!input) return;
  const value = key.dataset.key;
  if (value === "⌫") {
    input.value = input.value.slice(0, -1);
  } else if (value !== "." || !input.value.includes(".")) {
    input.value += value;
  }
});

// The enclosure's counter follows the cards as they are swapped for their done state.
document.addEventListener("htmx:afterSwap", () => {
  const counter = document.querySelector("[data-live-count]");
  if (!counter) return;
  const states = [...document.querySelectorAll("[data-testid=task]")].map((card) => card.dataset.state);
  const open = states.filter((state) => state === "due" || state === "overdue").length;
  const done = states.filter((state) => state === "done").length;
  counter.textContent = counter.dataset.liveCount.replace("%(open)d", open).replace("%(done)d", done);
});

// A tap the server refused (403: a dose only a vet may give) comes back as the card saying so.
// htmx swaps no 4xx but 422; a card answer (X-Task-Card) is swapped like one, never an error page.
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  if (xhr && xhr.status === 403 && xhr.getResponseHeader("X-Task-Card") === "1") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
