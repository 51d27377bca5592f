/* Animal, housing and chain-of-custody pages: behaviours that need no inline script (the CSP forbids it).
 *
 * - [data-print]: prints the page (the chain of custody).
 * - [data-select-all="NAME"]: a checkbox that ticks or clears every checkbox named NAME in its form,
 *   for "Move selected" on the animal list and the enclosure page.
 */
(function () {
  "use strict";
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("change", (event) => {
    const toggle = event.target.closest("[data-select-all]");
    if (!toggle) return;
    const scope = toggle.form || document;
    scope.querySelectorAll(`input[type="checkbox"][name="${toggle.dataset.selectAll}"]`).forEach((box) => {
      box.checked = toggle.checked;
    });
  });
})();
