// Line charts for the team and client pages. Data comes from a json_script tag (CSP: no inline JS):
// {"labels": [...], "series": {"key": [values...]}, "names": {"key": "label"}}.
(function () {
  "use strict";
  var palette = ["#0b5cad", "#1f8a4c", "#b7791f", "#8e44ad", "#c0392b", "#16a085"];

  function draw(canvas, data) {
    var keys = (canvas.getAttribute("data-series") || "").split(",").filter(Boolean);
    var datasets = keys.map(function (key, i) {
      return {
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
        scales: { y: { beginAtZero: true } }
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
