// Streetcell console: our own small script. Pages work without it; with it,
// server-drawn SVG maps get pan and zoom (buttons, keyboard, wheel, drag),
// and the site finder's map takes a drawn search area or corridor.
(function () {
  "use strict";
  function setup(box) {
    var svg = box.querySelector("svg");
    if (!svg) return;
    var vb = svg.getAttribute("viewBox").split(/[\s,]+/).map(Number);
    var home = vb.slice();
    function apply() { svg.setAttribute("viewBox", vb.join(" ")); }
    function zoom(f) {
      var cx = vb[0] + vb[2] / 2, cy = vb[1] + vb[3] / 2;
      vb[2] *= f; vb[3] *= f; vb[0] = cx - vb[2] / 2; vb[1] = cy - vb[3] / 2; apply();
    }
    function pan(dx, dy) { vb[0] += dx * vb[2]; vb[1] += dy * vb[3]; apply(); }
    var tools = document.createElement("div");
    tools.className = "map-tools";
    [["Zoom in", function () { zoom(0.7); }], ["Zoom out", function () { zoom(1 / 0.7); }],
     ["Left", function () { pan(-0.2, 0); }], ["Right", function () { pan(0.2, 0); }],
     ["Up", function () { pan(0, -0.2); }], ["Down", function () { pan(0, 0.2); }],
     ["Reset view", function () { vb = home.slice(); apply(); }]].forEach(function (t) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "secondary"; b.textContent = t[0];
      b.addEventListener("click", t[1]);
      tools.appendChild(b);
    });
    box.insertBefore(tools, box.firstChild);
    svg.addEventListener("wheel", function (e) { e.preventDefault(); zoom(e.deltaY < 0 ? 0.85 : 1 / 0.85); },
      { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (e) {
      if (e.target.closest("a")) return;
      drag = { x: e.clientX, y: e.clientY, vb: vb.slice() };
    });
    window.addEventListener("pointerup", function () { drag = null; });
    svg.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var r = svg.getBoundingClientRect();
      var s = Math.max(drag.vb[2] / r.width, drag.vb[3] / r.height);
      vb[0] = drag.vb[0] - (e.clientX - drag.x) * s; vb[1] = drag.vb[1] - (e.clientY - drag.y) * s; apply();
    });
  }
  // The site finder's drawing: a rectangle (two corners), a polygon or a
  // corridor's line, clicked on the map and written into the form's fields
  // as longitude-latitude pairs (the fields stay editable by hand).
  function finder(box) {
    var svg = box.querySelector("svg"), form = document.getElementById("finder-form");
    if (!svg || !form) return;
    var k = +svg.getAttribute("data-k"), scale = +svg.getAttribute("data-scale");
    var layer = svg.querySelector("g.drawing"), status = box.querySelector(".draw-status");
    var NS = "http://www.w3.org/2000/svg", mode = null, pts = [], buttons = {};
    function lonlat(e) {
      var p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY;
      var q = p.matrixTransform(svg.getScreenCTM().inverse());
      return [+(q.x / (k * scale)).toFixed(6), +(-q.y / scale).toFixed(6)];
    }
    function xy(ll) { return (ll[0] * k * scale).toFixed(1) + "," + (-ll[1] * scale).toFixed(1); }
    function say(t) { if (status) status.textContent = t; }
    function corners() {
      if (mode !== "bbox" || pts.length < 2) return pts;
      var w = Math.min(pts[0][0], pts[1][0]), e = Math.max(pts[0][0], pts[1][0]);
      var s = Math.min(pts[0][1], pts[1][1]), n = Math.max(pts[0][1], pts[1][1]);
      return [[w, s], [e, s], [e, n], [w, n]];
    }
    function show() {
      while (layer.firstChild) layer.removeChild(layer.firstChild);
      var c = corners();
      if (c.length > 1) {
        var el = document.createElementNS(NS, mode === "corridor" ? "polyline" : "polygon");
        el.setAttribute("class", "shape");
        el.setAttribute("points", c.map(xy).join(" "));
        layer.appendChild(el);
      }
      var r = svg.viewBox.baseVal.width / 180;
      pts.forEach(function (p) {
        var d = document.createElementNS(NS, "circle"), q = xy(p).split(",");
        d.setAttribute("cx", q[0]); d.setAttribute("cy", q[1]); d.setAttribute("r", r.toFixed(1));
        layer.appendChild(d);
      });
    }
    function field(name) { return form.elements[name]; }
    function choose(place) { var r = document.getElementById("place-" + place); if (r) r.checked = true; }
    function text(list) { return list.map(function (p) { return p[0] + " " + p[1]; }).join(", "); }
    function finish() {
      if (mode === "bbox" && pts.length === 2) {
        var c = corners();
        field("bbox").value = [c[0][0], c[0][1], c[2][0], c[2][1]].join(", "); choose("bbox");
        say("Rectangle drawn: the box is filled in below.");
      } else if (mode === "polygon" && pts.length >= 3) {
        field("polygon").value = text(pts); choose("polygon");
        say("Polygon of " + pts.length + " corners drawn: its corners are filled in below.");
      } else if (mode === "corridor" && pts.length >= 2) {
        field("line").value = text(pts); choose("corridor");
        say("Corridor line of " + pts.length + " points drawn: set its width below.");
      } else if (mode) {
        say("Not enough points yet.");
        return;
      }
      setMode(null);
    }
    function setMode(m) {
      mode = m; pts = [];
      Object.keys(buttons).forEach(function (b) { buttons[b].setAttribute("aria-pressed", String(b === m)); });
      box.classList.toggle("drawing-on", !!m);
      if (m) { show(); say(m === "bbox" ? "Select two opposite corners on the map." : "Select points on the map, then choose Finish drawing."); }
    }
    var tools = document.createElement("div");
    tools.className = "map-tools draw-tools";
    [["bbox", "Draw a rectangle"], ["polygon", "Draw a polygon"], ["corridor", "Draw a corridor line"]].forEach(function (t) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "secondary"; b.textContent = t[1]; b.id = "draw-" + t[0];
      b.setAttribute("aria-pressed", "false"); b.setAttribute("aria-describedby", "draw-hint");
      b.addEventListener("click", function () { setMode(mode === t[0] ? null : t[0]); });
      buttons[t[0]] = b; tools.appendChild(b);
    });
    [["Finish drawing", finish, "draw-finish"],
     ["Clear drawing", function () { setMode(null); show(); say("Drawing cleared."); }, "draw-clear"]].forEach(function (t) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "secondary"; b.textContent = t[0]; b.id = t[2];
      b.addEventListener("click", t[1]); tools.appendChild(b);
    });
    box.insertBefore(tools, box.firstChild);
    var down = null;
    svg.addEventListener("pointerdown", function (e) { down = [e.clientX, e.clientY]; });
    svg.addEventListener("click", function (e) {
      if (!mode) return;
      // A drag pans the map; only a click without one adds a point.
      if (down && Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]) > 6) return;
      e.preventDefault();
      pts.push(lonlat(e)); show();
      if (mode === "bbox" && pts.length === 2) finish();
      else say(pts.length + " point" + (pts.length === 1 ? "" : "s") + " so far.");
    });
    svg.addEventListener("dblclick", function (e) { if (mode) { e.preventDefault(); finish(); } });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(setup);
    document.querySelectorAll("[data-finder]").forEach(finder);
  });
})();
