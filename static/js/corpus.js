// Corpus pages. No inline code (CSP): everything is wired from here.
(function () {
  "use strict";

  // Article page: selecting or clicking inside a unit's text fills its split offset.
  function caretOffset(cell) {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0) return null;
    const range = sel.getRangeAt(0);
    if (!cell.contains(range.startContainer)) return null;
    const pre = document.createRange();
    pre.selectNodeContents(cell);
    pre.setEnd(range.startContainer, range.startOffset);
    return pre.toString().length;
  }

  document.addEventListener("mouseup", function (event) {
    const cell = event.target.closest && event.target.closest("td.unit-text[data-claim]");
    if (!cell) return;
    const offset = caretOffset(cell);
    const input = document.querySelector('input[data-split-for="' + cell.dataset.claim + '"]');
    if (input && offset && offset > 0 && offset < cell.textContent.length) {
      input.value = String(offset);
    }
  });

  // Highlight a unit in the text while its row is hovered.
  document.addEventListener("mouseover", function (event) {
    const row = event.target.closest && event.target.closest("tr[id^='row-']");
    document.querySelectorAll(".article-text .unit.hl").forEach(function (el) {
      el.classList.remove("hl");
    });
    if (!row) return;
    const unit = document.getElementById("c" + row.id.slice(4));
    if (unit) unit.classList.add("hl");
  });

  // Import page: when a polled job finishes, reload to show its per-file results table.
  document.addEventListener("htmx:afterSettle", function () {
    if (document.querySelector(".import-job .job:not([hx-get])")) window.location.reload();
  });
})();
