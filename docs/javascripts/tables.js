// Wide tables become stacked rows on a phone: each cell is labelled with its column's
// header (data-label), and docs/stylesheets/layout.css shows one row as a card below 45em.
(function () {
  function stack() {
    document.querySelectorAll(".md-typeset table:not([class])").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (heads.length < 5) return;
      table.classList.add("advisor-stack");
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, i) {
          if (heads[i]) td.setAttribute("data-label", heads[i]);
        });
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", stack);
  else stack();
})();
