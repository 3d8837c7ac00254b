// Trend charts (ECharts, vendored): today by hour and the last 30 days. Tooltips render
// in the canvas (renderMode richText), so nothing here writes HTML.
"use strict";

window.Charts = (() => {
  const AXIS = { color: "#7f93b5", fontFamily: "JetBrains Mono, Noto Sans SC, sans-serif", fontSize: 13 };
  const GRID = { left: 44, right: 16, top: 34, bottom: 28 };
  let today = null;
  let month = null;

  function base(labels) {
    return {
      animationDuration: 400,
      textStyle: { fontFamily: "Noto Sans SC, sans-serif" },
      grid: GRID,
      legend: { top: 0, right: 8, textStyle: { color: "#b9c7e3", fontSize: 13 }, itemWidth: 14, itemHeight: 8 },
      tooltip: { trigger: "axis", renderMode: "richText", backgroundColor: "#0d1a33", borderColor: "#2a4a7f",
                 textStyle: { color: "#e6eeff" } },
      xAxis: { type: "category", data: labels, axisLabel: AXIS, axisLine: { lineStyle: { color: "#2a3b5c" } },
               axisTick: { show: false } },
      yAxis: { type: "value", minInterval: 1, axisLabel: AXIS, splitLine: { lineStyle: { color: "#1b2a45" } } },
    };
  }

  function init() {
    if (!window.echarts) return;
    today = echarts.init(document.getElementById("chart-today"), null, { renderer: "canvas" });
    month = echarts.init(document.getElementById("chart-30"), null, { renderer: "canvas" });
    const observer = new ResizeObserver(() => { today.resize(); month.resize(); });
    observer.observe(document.getElementById("chart-today"));
    observer.observe(document.getElementById("chart-30"));
  }

  function update(trend, t) {
    if (!today || !trend) return;
    const gradient = (a, b) => new echarts.graphic.LinearGradient(0, 0, 0, 1, [
      { offset: 0, color: a }, { offset: 1, color: b }]);
    today.setOption({
      ...base(trend.hours),
      series: [
        { name: t("accepted"), type: "bar", data: trend.today_accepted, barWidth: "38%",
          itemStyle: { color: gradient("#39c5ff", "#1553b8"), borderRadius: [3, 3, 0, 0] } },
        { name: t("resolved"), type: "bar", data: trend.today_resolved, barWidth: "38%",
          itemStyle: { color: gradient("#3df2b0", "#0f7a5e"), borderRadius: [3, 3, 0, 0] } },
      ],
    }, true);
    month.setOption({
      ...base(trend.days),
      series: [
        { name: t("accepted"), type: "line", smooth: true, symbol: "none", data: trend.daily_accepted,
          lineStyle: { width: 2.5, color: "#39c5ff" }, areaStyle: { color: gradient("rgba(57,197,255,.35)", "rgba(57,197,255,0)") } },
        { name: t("resolved"), type: "line", smooth: true, symbol: "none", data: trend.daily_resolved,
          lineStyle: { width: 2.5, color: "#3df2b0" }, areaStyle: { color: gradient("rgba(61,242,176,.25)", "rgba(61,242,176,0)") } },
      ],
    }, true);
  }

  return { init, update };
})();
