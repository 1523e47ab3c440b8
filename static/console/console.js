// Streetcell console: our own small script. Pages work without it; with it,
// server-drawn SVG maps get pan and zoom (buttons, keyboard, wheel, drag).
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
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(setup);
  });
})();
