// Line charts for the team and client pages. Data comes from a json_script tag (CSP: no inline JS):
// {"labels": [...], "series": {"key": [values...]}, "names": {"key": "label"}}, and optionally
// "axes": {"key": {"min": 0, "max": 10}}: each such series on an axis of its own with that fixed
// range (left, then right), so a score is drawn against its whole scale, not its own data; a
// range without "max" grows with the data, and "integer": true keeps a count's ticks whole.
(function () {
  "use strict";
  var palette = ["#0b5cad", "#1f8a4c", "#b7791f", "#8e44ad", "#c0392b", "#16a085"];

  function draw(canvas, data) {
    var keys = (canvas.getAttribute("data-series") || "").split(",").filter(Boolean);
    var axes = data.axes || {};
    var scales = { y: { beginAtZero: true } };
    keys.forEach(function (key, i) {
      if (axes[key]) {
        scales[key] = {
          min: axes[key].min,
          max: axes[key].max,
          position: i === 0 ? "left" : "right",
          title: { display: true, text: data.names[key] || key },
          grid: { drawOnChartArea: i === 0 }
        };
        if (axes[key].integer) { scales[key].ticks = { precision: 0 }; }
      }
    });
    if (keys.every(function (key) { return axes[key]; })) { delete scales.y; }
    var datasets = keys.map(function (key, i) {
      return {
        yAxisID: axes[key] ? key : "y",
        label: data.names[key] || key,
        data: data.series[key] || [],
        borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length],
        spanGaps: true,
        tension: 0.25,
        pointRadius: 3
      };
    });
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: scales
      }
    });
  }

  function init() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-source]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-source"));
      if (source) { draw(canvas, JSON.parse(source.textContent)); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
