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
      var empty = document.getElementById("parks-empty");
      if (empty) empty.hidden = n > 0;
      syncMap();
    }
    // the map shows the parks the table shows: their ids go to the map's frame (same origin only)
    var frame = document.getElementById("parks-map");
    function syncMap() {
      if (!frame || !frame.contentWindow) return;
      var ids = [];
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        if (!row.hidden) ids.push(row.getAttribute("data-park"));
      });
      frame.contentWindow.postMessage({type: "parkplan:filter", key: "parks", ids: ids}, window.location.origin);
    }
    if (frame) frame.addEventListener("load", syncMap);
    [kind, county, sector].forEach(function (el) { el.addEventListener("change", apply); });
  }

  // Clicking a park's row (not its link) highlights that park on the map of the page: a message to the
  // map's frame (same origin only), which PARKPLAN.highlight answers (maps/assets/parkplan.js). The
  // parks table and the parks map; the suitability ranking and the suitability map's candidate parks.
  function parkRowHighlight(tableId, frameId, key) {
    var table = document.getElementById(tableId), frame = document.getElementById(frameId);
    if (!table || !frame || !table.tBodies.length) return;
    table.classList.add("pickable");
    table.tBodies[0].addEventListener("click", function (e) {
      if (e.target.closest("a")) return;
      var row = e.target.closest("tr[data-park]");
      if (!row || !frame.contentWindow) return;
      Array.prototype.forEach.call(table.querySelectorAll("tr.selected"), function (r) { r.classList.remove("selected"); });
      row.classList.add("selected");
      frame.contentWindow.postMessage({type: "parkplan:highlight", key: key, id: row.getAttribute("data-park")},
                                      window.location.origin);
    });
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

  // Consistency ratio of the pairwise matrix as the user edits it (principal eigenvalue by power
  // iteration); the server recomputes it with numpy and refuses CR >= 0.1 whatever this shows.
  function ahpLive() {
    var box = document.getElementById("ahp"), out = document.getElementById("ahp-live-cr");
    if (!box || !out) return;
    var n = parseInt(box.getAttribute("data-n"), 10), ri = parseFloat(box.getAttribute("data-ri")),
        limit = parseFloat(box.getAttribute("data-limit"));
    function ratio(text) {
      var p = String(text).split("/");
      return p.length === 2 ? parseFloat(p[0]) / parseFloat(p[1]) : parseFloat(p[0]);
    }
    function update() {
      var a = [], i, j, k;
      for (i = 0; i < n; i++) { a.push([]); for (j = 0; j < n; j++) a[i].push(1); }
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) {
        var sel = document.getElementById("ahp_" + i + "_" + j);
        var r = sel ? ratio(sel.value) : 1;
        a[i][j] = r; a[j][i] = 1 / r;
      }
      var w = [], lam = 0;
      for (i = 0; i < n; i++) w.push(1 / n);
      for (k = 0; k < 200; k++) {
        var v = [], s = 0;
        for (i = 0; i < n; i++) { var x = 0; for (j = 0; j < n; j++) x += a[i][j] * w[j]; v.push(x); s += x; }
        lam = s;  // sum(A w) with sum(w) = 1 converges to lambda_max
        for (i = 0; i < n; i++) w[i] = v[i] / s;
      }
      var cr = n > 2 && ri > 0 ? Math.max((lam - n) / (n - 1), 0) / ri : 0;
      out.textContent = cr.toFixed(3);
      out.className = cr < limit ? "cr-ok" : "cr-bad";
    }
    Array.prototype.forEach.call(box.querySelectorAll("select"), function (s) { s.addEventListener("change", update); });
    update();
  }

  // a refused AHP (or any answer of the form) is shown next to the form: bring it into view
  function showFormAnswer() {
    var refused = document.querySelector("#ahp-cr.alert");
    if (refused) { refused.scrollIntoView({block: "center"}); refused.focus({preventScroll: true}); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    ahpLive();
    showFormAnswer();
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
    parkFilters();
    parkRowHighlight("parks-table", "parks-map", "parks");
    parkRowHighlight("ranked", "suit-map", "candidates");
    sliders();
    weightMode();
  });
})();
