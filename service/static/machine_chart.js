// The machine page's telemetry chart: fetches the page's JSON history and draws it
// with uPlot, times on the axis in the site's zone. Without this script the page shows
// the latest values as a table.
(function () {
  "use strict";

  // 24-hour clock times, the date added under the ticks where the day changes (uPlot's
  // format table: step, format, then what to add on a year, month, day, hour, minute and
  // second change; mode 1 adds rather than replaces).
  var TIME_AXIS = [
    [86400, "{M}/{D}", "\n{YYYY}", null, null, null, null, null, 1],
    [3600, "{HH}:{mm}", "\n{M}/{D}", null, "\n{M}/{D}", null, null, null, 1],
    [60, "{HH}:{mm}", "\n{M}/{D}", null, "\n{M}/{D}", null, null, null, 1],
    [1, "{HH}:{mm}:{ss}", "\n{M}/{D}", null, "\n{M}/{D}", null, null, null, 1],
  ];

  function draw(figure) {
    var plot = figure.querySelector(".chart-plot");
    var status = figure.querySelector(".chart-status");
    var zone = figure.dataset.zone;
    fetch(figure.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) throw new Error(answer.status);
        return answer.json();
      })
      .then(function (history) {
        var xs = [], ys = [];
        history.points.forEach(function (p) {
          if (typeof p.value === "number" || p.value === null) {
            xs.push(Date.parse(p.ts) / 1000);
            ys.push(p.value);
          }
        });
        if (!xs.length) {
          status.textContent = figure.dataset.empty;
          return;
        }
        status.textContent = "";
        var options = {
          width: Math.max(280, plot.clientWidth),
          height: 280,
          tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), zone); },
          scales: { x: { time: true } },
          series: [{ label: figure.dataset.time, value: "{YYYY}-{MM}-{DD} {HH}:{mm}" }, { label: figure.dataset.field, stroke: "#1d5fa8", width: 2, spanGaps: false }],
          axes: [{ values: TIME_AXIS }, { size: 60 }],
          legend: { show: true },
        };
        var chart = new uPlot(options, [xs, ys], plot);
        window.addEventListener("resize", function () {
          chart.setSize({ width: Math.max(280, plot.clientWidth), height: 280 });
        });
        figure.dataset.drawn = String(xs.length);
      })
      .catch(function () {
        status.textContent = figure.dataset.failed;
      });
  }

  function start() {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("figure.chart[data-src]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
