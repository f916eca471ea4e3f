// parkplan web workspace: sortable and filterable tables, slider read-outs, weight-mode toggle.
// Plain JavaScript, no library; every value is read from the DOM as text (textContent), never as HTML.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function cellValue(row, index, type) {
    var cell = row.cells[index];
    if (!cell) return type === "num" ? -Infinity : "";
    var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
    if (type === "num") {
      var x = parseFloat(v);
      return isNaN(x) ? -Infinity : x;
    }
    return (v || "").trim();
  }

  function makeSortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      th.addEventListener("click", function () {
        var type = th.getAttribute("data-type") || "text";
        var asc = !th.classList.contains("asc");
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, type), y = cellValue(b, index, type);
          var c = type === "num" ? x - y : String(x).localeCompare(String(y), "zh-CN");
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function parkFilters() {
    var form = document.getElementById("park-filters");
    var table = document.getElementById("parks-table");
    if (!form || !table) return;
    var kind = document.getElementById("f-kind"), county = document.getElementById("f-county"),
        sector = document.getElementById("f-sector"), shown = document.getElementById("shown-count");
    function apply() {
      var n = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var ok = (!kind.value || row.getAttribute("data-kind") === kind.value) &&
                 (!county.value || row.getAttribute("data-county") === county.value) &&
                 (!sector.value || (row.getAttribute("data-sectors") || "").split(",").indexOf(sector.value) >= 0);
        row.hidden = !ok;
        if (ok) n += 1;
      });
      if (shown) shown.textContent = String(n);
    }
    [kind, county, sector].forEach(function (el) { el.addEventListener("change", apply); });
  }

  function sliders() {
    Array.prototype.forEach.call(document.querySelectorAll("label.slider input[type=range]"), function (input) {
      var out = input.parentNode.querySelector("output");
      input.addEventListener("input", function () { if (out) out.textContent = input.value; });
    });
  }

  function weightMode() {
    var radios = document.querySelectorAll("input[name=mode]");
    var s = document.getElementById("sliders"), a = document.getElementById("ahp");
    if (!radios.length || !s || !a) return;
    function apply() {
      var ahp = document.getElementById("mode-ahp").checked;
      s.classList.toggle("hidden", ahp);
      a.classList.toggle("hidden", !ahp);
    }
    Array.prototype.forEach.call(radios, function (r) { r.addEventListener("change", apply); });
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
    parkFilters();
    sliders();
    weightMode();
  });
})();
