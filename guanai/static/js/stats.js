/* The statistics page's charts (ECharts, vendored). The CSP allows no inline script: the page
   puts the charts' data in <script type="application/json" id="stats-charts"> (json_script)
   and an empty <div id="chart-…"> for each; this file draws them. Every chart has its table
   beneath it, so a phone without JavaScript still has every number. */
(function () {
  "use strict";
  if (!window.echarts) return;
  var COLORS = ["#fd7e14", "#dc3545", "#0d6efd", "#198754", "#6c757d", "#6f42c1", "#20c997"];
  var drawn = [];

  function narrow() { return window.innerWidth < 576; }

  function option(spec) {
    var base = { color: COLORS, animation: false, tooltip: { trigger: spec.kind === "pie" ? "item" : "axis" } };
    if (spec.kind === "pie") {
      base.legend = { bottom: 0, type: "scroll" };
      base.series = [{
        type: "pie", radius: narrow() ? ["30%", "60%"] : ["35%", "65%"], center: ["50%", "45%"],
        label: { formatter: "{b}\n{c}" },
        /* each slice keeps its category's colour when empty slices are left out */
        data: spec.labels.map(function (name, i) {
          return { name: name, value: spec.series[0].data[i], itemStyle: { color: COLORS[i % COLORS.length] } };
        }).filter(function (d) { return d.value > 0; })
      }];
      return base;
    }
    if (spec.kind === "line") {
      /* terms along the bottom, oldest first; the legend on top wraps at 390 px */
      base.legend = { top: 0, type: "scroll" };
      base.grid = { left: 8, right: 16, top: 36, bottom: 8, containLabel: true };
      base.xAxis = { type: "category", data: spec.labels, axisLabel: { interval: 0 } };
      base.yAxis = spec.percent
        ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }
        : { type: "value", minInterval: 1 };
      base.series = spec.series.map(function (s) {
        return { type: "line", name: s.name, data: s.data, connectNulls: false, symbolSize: 6 };
      });
      return base;
    }
    base.grid = { left: 8, right: 16, top: spec.kind === "stack" ? 36 : 16, bottom: 8, containLabel: true };
    /* horizontal bars: long Chinese labels stay readable at 390 px */
    base.yAxis = { type: "category", data: spec.labels, inverse: true, axisLabel: { width: narrow() ? 84 : 160, overflow: "truncate" } };
    base.xAxis = { type: "value", minInterval: 1 };
    if (spec.kind === "stack") base.legend = { top: 0, type: "scroll" };
    base.series = spec.series.map(function (s) {
      return { type: "bar", name: s.name, data: s.data, stack: spec.kind === "stack" ? "total" : undefined,
               label: { show: spec.kind !== "stack", position: "right" } };
    });
    return base;
  }

  /* The charts whose data is in <script id="…"> (once: the script is marked as drawn). */
  function draw(id) {
    var source = document.getElementById(id);
    if (!source || source.dataset.drawn) return;
    source.dataset.drawn = "1";
    JSON.parse(source.textContent).forEach(function (spec) {
      var el = document.getElementById(spec.id);
      if (!el) return;
      var rows = spec.labels.length;
      var height = spec.kind === "pie" || spec.kind === "line" ? 280 : Math.max(160, rows * 28 + (spec.kind === "stack" ? 60 : 30));
      el.style.height = height + "px";
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(spec));
      drawn.push({ chart: chart, spec: spec });
    });
  }
  draw("stats-charts");
  /* A large scope's coverage panels and trends come after the page (?part=coverage, htmx):
     their charts are drawn when they arrive. */
  document.body.addEventListener("htmx:afterSettle", function () { draw("stats-charts-part"); });
  /* If they do not come (no signal, a server error) the card says so; its button tries again. */
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.body.addEventListener(name, function (event) {
      var card = document.getElementById("coverage");
      if (!card || !card.contains(event.target)) return;
      var status = card.querySelector("[role=status]");
      if (status) status.textContent = "没有算出来（网络或服务器出了问题）。请点下面的按钮再试一次。";
    });
  });

  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      drawn.forEach(function (d) { d.chart.setOption(option(d.spec), true); d.chart.resize(); });
    }, 150);
  });
})();
