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
      if (l.pointCount) { n += l.pointCount(); } else if (l.getLayers) { n += l.getLayers().length; } else { n += 1; }
    });
    return n;
  };

  /* The data of a map element: a JSON block <script type="application/json" id=...> written by the
     server (maps.base.Script), parsed once. Data never lives in script source. */
  PP._data = {};
  PP.data = function (id) {
    if (!Object.prototype.hasOwnProperty.call(PP._data, id)) {
      var block = document.getElementById(id);
      PP._data[id] = block ? JSON.parse(block.textContent) : null;
    }
    return PP._data[id];
  };

  /* Plain columns from the compact ones maps.columns writes: {decimals, offset, values} -> numbers
     (offset + v) / 10^decimals (a Float64Array); {prefix, width, delta} -> strings prefix + the running
     sum of delta, zero-padded to width; arrays as they are. Python's maps.columns.decode_columns is
     the reference. */
  PP.columns = function (data) {
    var out = {};
    Object.keys(data).forEach(function (name) {
      var col = data[name], i, n;
      if (col && !Array.isArray(col) && typeof col === "object" && "decimals" in col) {
        var v = col.values, scale = Math.pow(10, col.decimals), o = col.offset, x = new Float64Array(v.length);
        for (i = 0, n = v.length; i < n; i++) { x[i] = (o + v[i]) / scale; }
        out[name] = x;
      } else if (col && !Array.isArray(col) && typeof col === "object" && "prefix" in col) {
        var d = col.delta, s = new Array(d.length), acc = 0, w = col.width, p = String(col.prefix);
        var zeros = new Array(w + 1).join("0");
        for (i = 0, n = d.length; i < n; i++) {
          acc += d[i];
          var digits = String(acc);
          s[i] = p + (digits.length < w ? zeros.slice(digits.length) + digits : digits);
        }
        out[name] = s;
      } else {
        out[name] = col;
      }
    });
    return out;
  };

  function el(tag, cls, text, parent) {
    var e = L.DomUtil.create(tag, cls || "", parent);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  PP.el = el;

  /* a permanent label (rank) on a feature that also has a hover text: a Leaflet layer holds one
     tooltip, so the label's tooltip shows the hover text while the pointer is over the feature */
  PP.labelWithTip = function (layer, label, tip) {
    var labelEl = el("span", "", label), tipEl = tip === null || tip === undefined ? null : el("span", "", tip);
    layer.bindTooltip(labelEl, {permanent: true, direction: "center", className: "pp-label", opacity: 1});
    if (!tipEl) { return; }
    layer.on("mouseover", function () {
      var tt = layer.getTooltip();
      tt.setContent(tipEl);
      if (tt.getElement()) { L.DomUtil.addClass(tt.getElement(), "pp-label-hover"); }
    });
    layer.on("mouseout", function () {
      var tt = layer.getTooltip();
      tt.setContent(labelEl);
      if (tt.getElement()) { L.DomUtil.removeClass(tt.getElement(), "pp-label-hover"); }
    });
  };

  /* highlight the feature whose id (GeoJSON property _id) is id in the layers registered under key,
     bring it to the front and zoom to it; the previous highlight is cleared. Returns whether found. */
  PP.highlighted = null;
  PP.highlight = function (key, id) {
    var found = null;
    (PP.layers[key] || []).forEach(function (group) {
      if (!group.eachLayer) { return; }
      group.eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (!p || p._id === undefined) { return; }
        if (l._ppHighlighted) {
          l.setStyle(p._style);
          l._ppHighlighted = false;
          if (l._path) { L.DomUtil.removeClass(l._path, "pp-highlight"); }
        }
        if (String(p._id) === String(id)) { found = l; }
      });
    });
    PP.highlighted = null;
    if (!found) { return false; }
    found.setStyle({color: "#00b4d8", weight: 5, opacity: 1, fillOpacity: 0.95});
    found._ppHighlighted = true;
    PP.highlighted = String(id);
    if (found._map) {
      found.bringToFront();
      if (found._path) { L.DomUtil.addClass(found._path, "pp-highlight"); }
      found._map.fitBounds(found.getBounds(), {maxZoom: 12, padding: [60, 60], animate: false});
    }
    return true;
  };
  /* ?highlight=ID in the map's URL, or a message {type: "parkplan:highlight", key, id} from a page of
     the same origin (the parks page, whose iframe this is) */
  document.addEventListener("DOMContentLoaded", function () {
    var id = new URLSearchParams(window.location.search).get("highlight");
    if (id) { PP.highlight("parks", id); }
  });
  window.addEventListener("message", function (e) {
    var d = e.data;
    if (e.origin !== window.location.origin || !d) { return; }
    if (d.type === "parkplan:highlight") { PP.highlight(typeof d.key === "string" ? d.key : "parks", String(d.id)); }
    if (d.type === "parkplan:filter" && Array.isArray(d.ids)) { PP.filter(typeof d.key === "string" ? d.key : "parks", d.ids); }
  });

  /* keep only the features whose id (property _id) is in ids, in the layers registered under key (the
     parks page's table filters); PARKPLAN.count(key) then counts what is drawn. Returns that count. */
  PP.filter = function (key, ids) {
    var keep = {}, n = 0;
    ids.forEach(function (id) { keep[String(id)] = true; });
    (PP.layers[key] || []).forEach(function (group) {
      if (!group.eachLayer) { return; }
      group._ppAll = group._ppAll || group.getLayers();
      group._ppAll.forEach(function (l) {
        var p = l.feature && l.feature.properties, ok = !!(p && keep[String(p._id)]);
        if (ok && !group.hasLayer(l)) { group.addLayer(l); }
        if (!ok && group.hasLayer(l)) { group.removeLayer(l); }
        if (ok) { n += 1; }
      });
    });
    return n;
  };

  /* GeoJSON layers (maps.base.GeoJsonLayer): style and texts from each feature's properties */
  PP.featureStyle = function (feature) { return (feature.properties || {})._style; };
  PP.onEachFeature = function (feature, layer) {
    var p = feature.properties || {};
    var hasTip = p._tip !== undefined && p._tip !== null;
    if (p._label !== undefined && p._label !== null) {
      /* a layer holds one tooltip: the permanent label shows the hover text while the pointer is over it */
      PP.labelWithTip(layer, p._label, hasTip ? p._tip : null);
    } else if (hasTip) {
      layer.bindTooltip(el("span", "", p._tip), {sticky: true});
    }
    if (p._rows) {
      layer.bindPopup(function () { return PP.table(p._title, p._rows); });
      layer.off("click", layer._openPopup, layer);
      layer.on("click", PP.featureClick);
    }
  };

  /* An outline layer opened coarse (maps.base.add_counties): the first time its map is zoomed to ``zoom`` or
     closer, each feature is drawn again from ``detail()[feature.id]`` (GeoJSON geometries, parsed only then);
     its style, tooltip and popup stay. Returns the layer. */
  PP.detailOnZoom = function (layer, detail, zoom) {
    var map = null, done = false;
    function check() {
      if (done || !map || map.getZoom() < zoom) { return; }
      done = true;
      map.off("zoomend", check);
      var geoms = detail() || [];
      layer.eachLayer(function (l) {
        var g = l.feature ? geoms[+l.feature.id] : null;
        if (g && l.setLatLngs) { l.setLatLngs(L.GeoJSON.coordsToLatLngs(g.coordinates, g.type === "Polygon" ? 1 : 2)); }
      });
      layer.fire("pp:detail");
    }
    function attach() {
      if (!layer._map || layer._map === map) { return; }
      if (map) { map.off("zoomend", check); }
      map = layer._map;
      if (!done) { map.on("zoomend", check); }
      check();
    }
    layer.on("add", attach);
    attach();
    return layer;
  };

  /* The legend: sections [{title, items: [{color, label, shape: box|dot|line, border, key}]}], as text; an item's key
     marks its row (data-pp-key) for a map's own script that recolours it */
  PP.legend = function (map, sections, position) {
    var legend = L.control({position: position || "bottomright"});
    legend.onAdd = function () {
      var box = L.DomUtil.create("div", "pp-legend");
      L.DomEvent.disableScrollPropagation(box);
      sections.forEach(function (s) {
        if (s.title) { el("div", "pp-legend-title", s.title, box); }
        s.items.forEach(function (it) {
          var row = el("div", "pp-legend-item", undefined, box);
          if (it.key) { row.setAttribute("data-pp-key", String(it.key)); }
          var sw = el("i", it.shape === "dot" ? "pp-dot" : (it.shape === "line" ? "pp-line" : ""), undefined, row);
          if (it.shape === "line") { sw.style.borderColor = it.color; } else { sw.style.background = it.color; }
          if (it.border) { sw.style.borderColor = it.border; }
          el("span", "", it.label, row);
        });
      });
      return box;
    };
    return legend.addTo(map);
  };

  /* a popup body from [[label, value], ...] rows, all as text; a value {href, text} is a link */
  PP.table = function (title, rows) {
    var box = el("div", "pp-popup");
    if (title !== undefined && title !== null) { el("div", "pp-popup-title", title, box); }
    var t = el("table", "", undefined, box);
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === "") { return; }
      var tr = el("tr", "", undefined, t);
      el("th", "", r[0], tr);
      var td = el("td", "", typeof r[1] === "object" ? undefined : r[1], tr);
      if (typeof r[1] === "object") {
        /* a link row {href, text}: only a path of this site ("/x", not "//host" or "javascript:") */
        var href = String(r[1].href || "");
        if (/^\/(?!\/)/.test(href)) {
          var a = el("a", "pp-popup-link", r[1].text, td);
          a.setAttribute("href", href);
          a.setAttribute("target", "_top");
        }
      }
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
      this._map._ppMeasuring = true;
      /* preclick reaches the map even when a polygon under the pointer handles the click */
      this._map.on("preclick", this._add, this);
    },
    _stop: function (keep) {
      this._active = false;
      L.DomUtil.removeClass(this._map.getContainer(), "pp-measuring");
      this._map.doubleClickZoom.enable();
      this._map._ppMeasuring = false;
      this._map.off("preclick", this._add, this);
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


  /* Enterprise points drawn straight onto one canvas per layer from the column arrays: no Leaflet
     object per point. Web-Mercator unit coordinates are computed once; a redraw (move, zoom, resize)
     is one pass over the layer's indices with one path fill. A click is answered by the nearest
     point within a few pixels over all point layers on the map (PP.pointClick). */
  var R2D = 180 / Math.PI, MAXLAT = 85.0511287798;
  PP.mercator = function (data) {
    var n = data.lat.length, ux = new Float64Array(n), uy = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var lat = Math.max(Math.min(data.lat[i], MAXLAT), -MAXLAT) / R2D;
      ux[i] = 0.5 + data.lon[i] / 360;
      uy[i] = 0.5 - Math.log(Math.tan(Math.PI / 4 + lat / 2)) / (2 * Math.PI);
    }
    data._ux = ux; data._uy = uy;
    return data;
  };
  PP.PointLayer = L.Layer.extend({
    options: { pane: "ppPoints", radius: 3, color: "#1f78b4", stroke: "#333" },
    initialize: function (data, indices, meta, options) {
      L.setOptions(this, options);
      this._data = data._ux ? data : PP.mercator(data);
      this._idx = indices;
      this._meta = meta;
    },
    pointCount: function () { return this._idx.length; },
    onAdd: function (map) {
      PP.pointsPane(map);
      var c = this._canvas = L.DomUtil.create("canvas", "pp-points leaflet-zoom-animated");
      c.style.pointerEvents = "none";
      this.getPane().appendChild(c);
      map.on("moveend resize viewreset", this._redraw, this);
      if (map._zoomAnimated) { map.on("zoomanim", this._animateZoom, this); }
      PP._pointLayersOn(map, this);
      this._redraw();
    },
    onRemove: function (map) {
      map.off("moveend resize viewreset", this._redraw, this);
      map.off("zoomanim", this._animateZoom, this);
      PP._pointLayersOff(map, this);
      L.DomUtil.remove(this._canvas);
    },
    _animateZoom: function (e) {
      if (!this._bounds) { return; }
      var map = this._map, scale = map.getZoomScale(e.zoom),
          offset = map._latLngBoundsToNewLayerBounds(this._bounds, e.zoom, e.center).min;
      L.DomUtil.setTransform(this._canvas, offset, scale);
    },
    _redraw: function () {
      var map = this._map; if (!map) { return; }
      var size = map.getSize(), dpr = window.devicePixelRatio || 1, c = this._canvas;
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(c, topLeft);
      c.width = size.x * dpr; c.height = size.y * dpr;
      c.style.width = size.x + "px"; c.style.height = size.y + "px";
      this._bounds = map.getBounds();
      var ctx = c.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      var scale = map.options.crs.scale(map.getZoom());
      var origin = map.getPixelOrigin(), ox = origin.x + topLeft.x, oy = origin.y + topLeft.y;
      var ux = this._data._ux, uy = this._data._uy, idx = this._idx, r = this._radius();
      var w = size.x + r, h = size.y + r, tau = 2 * Math.PI;
      this._scale = scale; this._ox = ox; this._oy = oy;
      ctx.beginPath();
      for (var k = 0; k < idx.length; k++) {
        var i = idx[k], x = ux[i] * scale - ox, y = uy[i] * scale - oy;
        if (x < -r || y < -r || x > w || y > h) { continue; }
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, tau);
      }
      ctx.fillStyle = this.options.color;
      ctx.globalAlpha = 0.85;
      ctx.fill();
      if (r >= 3.5) { ctx.globalAlpha = 0.6; ctx.lineWidth = 0.5; ctx.strokeStyle = this.options.stroke; ctx.stroke(); }
    },
    /* the drawn radius: the layer's at province scale, growing when zoomed in to streets */
    _radius: function () {
      var z = this._map ? this._map.getZoom() : 0, r = this.options.radius;
      return z > 10 ? Math.min(6, r * (1 + (z - 10) * 0.3)) : r;
    },
    /* nearest point of this layer to container point p within tol pixels: [index, distance2] or null */
    _nearest: function (p, tol) {
      if (this._scale === undefined) { return null; }
      var map = this._map, topLeft = map.containerPointToLayerPoint([0, 0]);
      var origin = map.getPixelOrigin(), scale = map.options.crs.scale(map.getZoom());
      var ox = origin.x + topLeft.x, oy = origin.y + topLeft.y;
      var ux = this._data._ux, uy = this._data._uy, idx = this._idx, best = null, bd = tol * tol;
      for (var k = 0; k < idx.length; k++) {
        var i = idx[k], dx = ux[i] * scale - ox - p.x, dy = uy[i] * scale - oy - p.y, d = dx * dx + dy * dy;
        if (d <= bd) { bd = d; best = i; }
      }
      return best === null ? null : [best, bd];
    }
  });
  PP._pointLayersOn = function (map, layer) {
    var list = map._ppPoints = map._ppPoints || [];
    list.push(layer);
    if (!map._ppClick) {
      map._ppClick = function (e) { PP.pointClick(map, e.containerPoint); };
      map.on("mousemove", PP._hoverHandler(map));
      map.on("click", map._ppClick);
    }
  };
  /* nearest point over all point layers of the map: [index, distance2, layer] or null */
  PP.pointAt = function (map, containerPoint) {
    var best = null;
    (map._ppPoints || []).forEach(function (l) {
      var hit = l._nearest(containerPoint, l._radius() + 5);
      if (hit && (!best || hit[1] < best[1])) { best = [hit[0], hit[1], l]; }
    });
    return best;
  };
  /* hover: the name of the point under the pointer as a tooltip (text), pointer cursor; once a frame */
  PP._hoverHandler = function (map) {
    var pending = null, tip = L.tooltip({ direction: "top", offset: [0, -6], className: "pp-point-tip" });
    return function (e) {
      if (pending !== null) { pending = e; return; }
      pending = e;
      L.Util.requestAnimFrame(function () {
        var ev = pending; pending = null;
        var best = map._ppMeasuring ? null : PP.pointAt(map, ev.containerPoint);
        var box = map.getContainer();
        if (best) {
          var d = best[2]._data, i = best[0];
          tip.setLatLng([d.lat[i], d.lon[i]]).setContent(el("span", "", d.label[i]));
          if (!map.hasLayer(tip)) { map.openTooltip(tip); }
          box.style.cursor = "pointer";
        } else {
          if (map.hasLayer(tip)) { map.closeTooltip(tip); }
          box.style.cursor = "";
        }
      });
    };
  };
  /* open the popup of the point nearest to containerPoint (within a few pixels); true if there was one */
  PP.pointClick = function (map, containerPoint) {
    if (map._ppMeasuring) { return true; }
    var best = PP.pointAt(map, containerPoint);
    if (best) { PP.pointPopup(map, best[2], best[0]); }
    return !!best;
  };
  /* click on a polygon: a point drawn over it wins, else the polygon's own popup */
  PP.featureClick = function (e) {
    var layer = e.target, map = layer._map;
    L.DomEvent.stop(e);
    if (!map || map._ppMeasuring || PP.pointClick(map, e.containerPoint)) { return; }
    layer.openPopup(e.latlng);
  };
  PP._pointLayersOff = function (map, layer) {
    map._ppPoints = (map._ppPoints || []).filter(function (l) { return l !== layer; });
  };
  PP.pointPopup = function (map, layer, i) {
    var data = layer._data, meta = layer._meta, f = meta.fields;
    var body = PP.table(data.label[i], [
      [f.enterprise_id, data.id[i]],
      [f.sector, meta.sectors[data.sector[i]]],
      [f.size, meta.sizes[data.size[i]]],
      [f.employees, data.employees[i]],
      [f.county, meta.counties[data.county[i]]]
    ]);
    L.popup().setLatLng([data.lat[i], data.lon[i]]).setContent(body).openOn(map);
  };
  /* the pane for points and the heat map: above the polygons (Leaflet draws its SVG over canvases in the
     overlay pane), below markers, tooltips and popups; clicks pass through to the map */
  PP.pointsPane = function (map) {
    var pane = map.getPane("ppPoints");
    if (!pane) {
      pane = map.createPane("ppPoints");
      pane.style.zIndex = 450;
      pane.style.pointerEvents = "none";
    }
    return pane;
  };
  /* one PointLayer per sector index present in data.sector */
  PP.pointLayers = function (data, meta) {
    PP.mercator(data);
    var groups = meta.sectors.map(function () { return []; });
    for (var i = 0; i < data.sector.length; i++) { groups[data.sector[i]].push(i); }
    return groups.map(function (idx, k) {
      return new PP.PointLayer(data, Uint32Array.from(idx), meta, { color: meta.colors[k], radius: meta.radius || 3 });
    });
  };

  /* Density heat layer (leaflet.heat) from the same columns; its points are built when it is first
     shown (off by default: 100,000 small arrays not made at load). */
  PP.heat = function (data, options) {
    var heat = L.heatLayer([], options || {}), onAdd = heat.onAdd;
    heat.onAdd = function (map) {
      if (!this._latlngs.length && data.lat.length) {
        var pts = new Array(data.lat.length);
        for (var i = 0; i < pts.length; i++) { pts[i] = [data.lat[i], data.lon[i], 1]; }
        this._latlngs = pts;
      }
      return onAdd.call(this, map);
    };
    heat.on("add", function () { PP.pointsPane(heat._map).appendChild(heat._canvas); });
    return heat;
  };
  /* Place names, since there are no tiles offline: county names on every map, city names as well at
     provincial zoom; sized to the zoom. data: {counties: {name, lat, lon}, cities: {name, lat, lon}}
     (columns). Names are text (textContent), markers take no clicks. */
  PP.placeLabels = function (map, data) {
    var groups = {county: L.layerGroup(), city: L.layerGroup()};
    function add(kind, src) {
      if (!src) { return; }
      for (var i = 0; i < src.name.length; i++) {
        var span = el("span", "pp-place-text", src.name[i]);
        var icon = L.divIcon({className: "pp-place pp-place-" + kind, html: span, iconSize: null});
        L.marker([src.lat[i], src.lon[i]], {icon: icon, interactive: false, keyboard: false}).addTo(groups[kind]);
      }
    }
    add("county", data.counties);
    add("city", data.cities);
    function update() {
      var z = map.getZoom(), box = map.getContainer();
      box.style.setProperty("--pp-county-size", Math.max(9, Math.min(15, Math.round(2 * z - 5))) + "px");
      box.style.setProperty("--pp-city-size", Math.max(12, Math.min(18, Math.round(2 * z - 2))) + "px");
      groups.county.addTo(map);
      if (z < 8.5) { groups.city.addTo(map); } else { groups.city.remove(); }
    }
    map.on("zoomend", update);
    map.whenReady(update);
    PP.register("place_labels", groups.county);
    PP.register("city_labels", groups.city);
    return groups;
  };
})();
