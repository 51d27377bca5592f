/* The intake table: add and remove rows, species look-up by any name.
 *
 * Rows are cloned from <template id="intake-row-template">; every row has the
 * same input names, so the server reads them as parallel lists (no renumbering).
 * Typing in a species box asks /species/options?q= for matching names and fills
 * the shared <datalist>; when the text is exactly one option, its id goes in the
 * row's hidden species_id (the server resolves the text itself otherwise).
 */
(function () {
  "use strict";
  const form = document.getElementById("intake-form");
  if (!form) return;
  const tbody = document.getElementById("intake-rows");
  const template = document.getElementById("intake-row-template");
  const datalist = document.getElementById("species-options");
  const optionsUrl = form.dataset.optionsUrl;
  let timer = null;
  let lastQuery = null;

  function renumber() {
    tbody.querySelectorAll("tr.intake-row").forEach(function (tr, i) {
      const cell = tr.querySelector(".row-number");
      if (cell) cell.textContent = String(i + 1);
    });
  }

  function addRow() {
    const fragment = template.content.cloneNode(true);
    tbody.appendChild(fragment);
    renumber();
    const rows = tbody.querySelectorAll("tr.intake-row");
    rows[rows.length - 1].querySelector(".species-text").focus();
  }

  function matchOption(input) {
    const hidden = input.parentElement.querySelector("input[name=species_id]");
    const match = Array.from(datalist.options).find(function (o) { return o.value === input.value; });
    hidden.value = match ? match.dataset.id : "";
  }

  function lookUp(input) {
    const q = input.value.trim();
    if (!q || q === lastQuery) { matchOption(input); return; }
    lastQuery = q;
    fetch(optionsUrl + "?q=" + encodeURIComponent(q), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        const doc = new DOMParser().parseFromString("<select>" + html + "</select>", "text/html");
        datalist.replaceChildren.apply(datalist, Array.from(doc.querySelectorAll("option")));
        matchOption(input);
      })
      .catch(function () { /* offline: the server resolves the typed name on submit */ });
  }

  document.getElementById("add-row").addEventListener("click", addRow);

  tbody.addEventListener("click", function (event) {
    const button = event.target.closest(".remove-row");
    if (!button) return;
    const rows = tbody.querySelectorAll("tr.intake-row");
    if (rows.length > 1) {
      button.closest("tr").remove();
    } else {
      button.closest("tr").querySelectorAll("input[type=text], input[type=number], input[type=hidden]")
        .forEach(function (i) { i.value = i.name === "quantity" ? "1" : ""; });
    }
    renumber();
  });

  tbody.addEventListener("input", function (event) {
    const input = event.target;
    if (!input.classList.contains("species-text")) return;
    matchOption(input);
    clearTimeout(timer);
    timer = setTimeout(function () { lookUp(input); }, 200);
  });

  tbody.addEventListener("change", function (event) {
    if (event.target.classList.contains("species-text")) matchOption(event.target);
  });
})();
