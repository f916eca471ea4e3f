/* parkplan map helpers: layer registry, search box, enterprise points on one canvas, heat layer.
   Every text that comes from data is put into the page with textContent, never innerHTML. */
(function () {
  "use strict";
  var PP = window.PARKPLAN = window.PARKPLAN || { layers: {}, maps: [] };

  PP.register = function (key, layer) {
    (PP.layers[key] = PP.layers[key] || []).push(layer);
    return layer;
  };
  /* number of features in the layers registered under key (for tests and the status line) */
  PP.count = function (key) {
    var n = 0;
    (PP.layers[key] || []).forEach(function (l) {
      if (l.getLayers) { n += l.getLayers().length; } else { n += 1; }
    });
    return n;
  };

  function el(tag, cls, text, parent) {
    var e = L.DomUtil.create(tag, cls || "", parent);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  PP.el = el;

  /* a popup body from [[label, value], ...] rows, all as text */
  PP.table = function (title, rows) {
    var box = el("div", "pp-popup");
    if (title !== undefined && title !== null) { el("div", "pp-popup-title", title, box); }
    var t = el("table", "", undefined, box);
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === "") { return; }
      var tr = el("tr", "", undefined, t);
      el("th", "", r[0], tr);
      el("td", "", r[1], tr);
    });
    return box;
  };

  /* Search by name over columnar entries {label: [...], lat: [...], lon: [...]} (several sources). */
  L.Control.PPSearch = L.Control.extend({
    options: { position: "topleft", placeholder: "Search", noMatch: "no match", max: 12, zoom: 13 },
    initialize: function (sources, options) { L.setOptions(this, options); this._sources = sources; },
    onAdd: function (map) {
      var box = el("div", "pp-search leaflet-bar");
      var input = this._input = el("input", "pp-search-input", undefined, box);
      input.type = "search";
      input.placeholder = this.options.placeholder;
      input.setAttribute("aria-label", this.options.placeholder);
      var list = this._list = el("ul", "pp-search-results", undefined, box);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      var self = this;
      L.DomEvent.on(input, "input", function () { self._search(input.value); });
      L.DomEvent.on(input, "keydown", function (e) {
        if (e.key === "Enter" && self._first) { self._go(self._first); }
      });
      this._map = map;
      return box;
    },
    _search: function (q) {
      var list = this._list, max = this.options.max, hits = [];
      list.textContent = "";
      this._first = null;
      q = (q || "").trim().toLowerCase();
      if (!q) { return; }
      for (var s = 0; s < this._sources.length && hits.length < max; s++) {
        var src = this._sources[s], labels = src.label;
        for (var i = 0; i < labels.length && hits.length < max; i++) {
          var lab = labels[i];
          if (lab && String(lab).toLowerCase().indexOf(q) !== -1) {
            hits.push({ label: String(lab), lat: src.lat[i], lon: src.lon[i], kind: src.kind || "" });
          }
        }
      }
      var self = this;
      if (!hits.length) { el("li", "pp-search-none", this.options.noMatch, list); return; }
      this._first = hits[0];
      hits.forEach(function (h) {
        var li = el("li", "pp-search-hit", h.label, list);
        if (h.kind) { el("span", "pp-search-kind", " · " + h.kind, li); }
        L.DomEvent.on(li, "click", function () { self._go(h); });
      });
    },
    _go: function (h) {
      var map = this._map;
      map.setView([h.lat, h.lon], Math.max(map.getZoom(), this.options.zoom));
      if (this._marker) { map.removeLayer(this._marker); }
      var tip = el("span", "", h.label);
      this._marker = L.circleMarker([h.lat, h.lon], { radius: 12, color: "#d7191c", weight: 3, fill: false })
        .bindTooltip(tip, { permanent: true, direction: "top" }).addTo(map);
      this._list.textContent = "";
    }
  });


  /* Measure tool: click points for a path length; three or more points also give the enclosed area.
     Geodesic: Leaflet's map.distance (haversine) and the spherical polygon area (as Leaflet.draw's
     L.GeometryUtil.geodesicArea). */
  PP.geodesicArea = function (latlngs) {
    var R = 6378137, d2r = Math.PI / 180, area = 0, n = latlngs.length;
    if (n < 3) { return 0; }
    for (var i = 0; i < n; i++) {
      var p1 = latlngs[i], p2 = latlngs[(i + 1) % n];
      area += (p2.lng - p1.lng) * d2r * (2 + Math.sin(p1.lat * d2r) + Math.sin(p2.lat * d2r));
    }
    return Math.abs(area * R * R / 2);
  };
  L.Control.PPMeasure = L.Control.extend({
    options: { position: "topleft", title: "Measure", finish: "Finish", clear: "Clear", distance: "Distance",
               area: "Area", hint: "Click on the map" },
    onAdd: function (map) {
      var o = this.options, self = this;
      var box = this._box = el("div", "leaflet-bar pp-measure leaflet-control-measure");
      var a = el("a", "pp-measure-toggle", "\u2194", box);
      a.href = "#"; a.title = o.title; a.setAttribute("role", "button"); a.setAttribute("aria-label", o.title);
      var panel = this._panel = el("div", "pp-measure-panel", undefined, box);
      panel.style.display = "none";
      this._hint = el("div", "pp-measure-hint", o.hint, panel);
      this._dist = el("div", "pp-measure-distance", "", panel);
      this._area = el("div", "pp-measure-area", "", panel);
      var buttons = el("div", "pp-measure-buttons", undefined, panel);
      var fin = el("button", "", o.finish, buttons), clr = el("button", "", o.clear, buttons);
      fin.type = clr.type = "button";
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(a, "click", function (e) { L.DomEvent.preventDefault(e); self._active ? self._stop() : self._start(); });
      L.DomEvent.on(fin, "click", function () { self._stop(true); });
      L.DomEvent.on(clr, "click", function () { self._clear(); });
      this._map = map;
      this._layer = L.featureGroup().addTo(map);
      this._points = [];
      return box;
    },
    _start: function () {
      this._active = true;
      this._panel.style.display = "block";
      L.DomUtil.addClass(this._map.getContainer(), "pp-measuring");
      this._map.doubleClickZoom.disable();
      this._map.on("click", this._add, this);
    },
    _stop: function (keep) {
      this._active = false;
      L.DomUtil.removeClass(this._map.getContainer(), "pp-measuring");
      this._map.doubleClickZoom.enable();
      this._map.off("click", this._add, this);
      if (!keep) { this._clear(); this._panel.style.display = "none"; }
    },
    _clear: function () {
      this._points = [];
      this._layer.clearLayers();
      this._dist.textContent = "";
      this._area.textContent = "";
    },
    _add: function (e) {
      this._points.push(e.latlng);
      this._draw();
    },
    _draw: function () {
      var pts = this._points, map = this._map, o = this.options, d = 0;
      this._layer.clearLayers();
      for (var i = 1; i < pts.length; i++) { d += map.distance(pts[i - 1], pts[i]); }
      if (pts.length >= 3) {
        L.polygon(pts, { color: "#d7191c", weight: 2, dashArray: "4 4", fillOpacity: 0.1, interactive: false }).addTo(this._layer);
      } else if (pts.length === 2) {
        L.polyline(pts, { color: "#d7191c", weight: 2, dashArray: "4 4", interactive: false }).addTo(this._layer);
      }
      pts.forEach(function (p) {
        L.circleMarker(p, { radius: 3, color: "#d7191c", fillOpacity: 1, interactive: false }).addTo(this._layer);
      }, this);
      this._dist.textContent = o.distance + ": " + (d >= 1000 ? (d / 1000).toFixed(2) + " km" : d.toFixed(0) + " m");
      var area = PP.geodesicArea(pts);
      this._area.textContent = pts.length >= 3 ? o.area + ": " + (area / 1e4).toFixed(1) + " ha (" + (area / 1e6).toFixed(2) + " km\u00b2)" : "";
    }
  });

  /* Title and status line at the top. */
  L.Control.PPTitle = L.Control.extend({
    options: { position: "topright" },
    initialize: function (title, note, options) { L.setOptions(this, options); this._title = title; this._note = note; },
    onAdd: function () {
      var box = el("div", "pp-title");
      el("div", "pp-title-main", this._title, box);
      if (this._note) { el("div", "pp-title-note", this._note, box); }
      return box;
    }
  });

  /* Enterprise points: one canvas renderer, one feature group per sector, popups built on click.
     data: {lat:[], lon:[], label:[] (names), id:[], sector:[] (index), employees:[], size:[], county:[] (index)}
     meta: {sectors: [label...], colors: [...], counties: [...], fields: {...labels}, sizes: [...]} */
  PP.pointGroups = function (data, meta) {
    var renderer = L.canvas({ padding: 0.3, tolerance: 3 });
    var groups = meta.sectors.map(function () { return []; });
    var n = data.lat.length;
    for (var i = 0; i < n; i++) {
      var k = data.sector[i];
      var m = L.circleMarker([data.lat[i], data.lon[i]], {
        renderer: renderer, radius: meta.radius || 3, weight: 0.5, color: "#333",
        fillColor: meta.colors[k], fillOpacity: 0.85, bubblingMouseEvents: true
      });
      m._ppIndex = i;
      groups[k].push(m);
    }
    var f = meta.fields;
    return groups.map(function (markers, k) {
      var g = L.featureGroup(markers);
      g.on("click", function (e) {
        var i = e.layer._ppIndex;
        var body = PP.table(data.label[i], [
          [f.enterprise_id, data.id[i]],
          [f.sector, meta.sectors[data.sector[i]]],
          [f.size, meta.sizes[data.size[i]]],
          [f.employees, data.employees[i]],
          [f.county, meta.counties[data.county[i]]]
        ]);
        L.popup().setLatLng(e.latlng).setContent(body).openOn(g._map);
      });
      return g;
    });
  };

  /* Density heat layer (leaflet.heat) from the same columns. */
  PP.heat = function (data, options) {
    var pts = new Array(data.lat.length);
    for (var i = 0; i < pts.length; i++) { pts[i] = [data.lat[i], data.lon[i], 1]; }
    return L.heatLayer(pts, options || {});
  };
})();
