/* The intake table: add and remove rows, species look-up by any name.
 *
 * Rows are cloned from <template id="intake-row-template">, whose input names hold
 * "__index__" (rows-__index__-species); each clone gets the next unused index. Indexes
 * are never renumbered after a removal: the server reads them in order, gaps allowed.
 * Typing in a species box asks /species/options?q= (through htmx) for matching
 * names and fills the shared <datalist id="species-options">; the server resolves
 * the typed text itself on submit, so nothing breaks when the look-up is offline.
 */
(function () {
  "use strict";
  const form = document.getElementById("intake-form");
  if (!form) return;
  const tbody = document.getElementById("intake-rows");
  const template = document.getElementById("intake-row-template");
  const optionsUrl = form.dataset.optionsUrl;
  let timer = null;
  let lastQuery = null;

  function nextIndex() {
    let max = -1;
    tbody.querySelectorAll("[name^='rows-']").forEach(function (input) {
      const n = parseInt(input.name.split("-")[1], 10);
      if (n > max) max = n;
    });
    return max + 1;
  }

  function renumber() {
    tbody.querySelectorAll("tr.intake-row").forEach(function (tr, i) {
      const cell = tr.querySelector(".row-number");
      if (cell) cell.textContent = String(i + 1);
    });
  }

  function addRow() {
    const index = String(nextIndex());
    const fragment = template.content.cloneNode(true);
    fragment.querySelectorAll("[name]").forEach(function (input) {
      input.name = input.name.replace("__index__", index);
    });
    tbody.appendChild(fragment);
    renumber();
    const rows = tbody.querySelectorAll("tr.intake-row");
    rows[rows.length - 1].querySelector(".species-text").focus();
  }

  function lookUp(input) {
    const q = input.value.trim();
    if (!q || q === lastQuery || !window.htmx) return;
    lastQuery = q;
    window.htmx.ajax("GET", optionsUrl + "?q=" + encodeURIComponent(q),
      { target: "#species-options", swap: "innerHTML" })
      .catch(function () { lastQuery = null; /* offline: the server resolves the typed name on submit */ });
  }

  document.getElementById("add-row").addEventListener("click", addRow);

  tbody.addEventListener("click", function (event) {
    const button = event.target.closest(".remove-row");
    if (!button) return;
    const rows = tbody.querySelectorAll("tr.intake-row");
    if (rows.length > 1) {
      button.closest("tr").remove();
    } else {
      button.closest("tr").querySelectorAll("input, select").forEach(function (i) {
        i.value = i.dataset.field === "quantity" ? "1" : "";
      });
    }
    renumber();
    const first = tbody.querySelector(".species-text");
    if (first) first.focus();
  });

  tbody.addEventListener("input", function (event) {
    const input = event.target;
    if (!input.classList.contains("species-text")) return;
    clearTimeout(timer);
    timer = setTimeout(function () { lookUp(input); }, 200);
  });
})();
