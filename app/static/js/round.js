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
