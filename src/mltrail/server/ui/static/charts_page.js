// Wiring shared by pages with a grid of metric charts: controls, lazy drawing, theme changes.
import { debounce } from "./common.js";
import { whenPlotly } from "./chart.js";

export { whenPlotly };

/** Draw charts as they come near the screen; redraw all on option or theme changes. */
export function setUpChartGrid(charts) {
  const byFigure = new Map(charts.map((c) => [c.figure, c]));
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const chart = byFigure.get(entry.target);
      if (entry.isIntersecting && chart && !chart.loaded && !chart.loading) {
        chart.loading = true;
        chart.load(); // the data request starts at once; drawing waits for plotly.js
      }
    }
  }, { rootMargin: "300px" });
  for (const chart of charts) observer.observe(chart.figure);

  const redraw = () => { for (const c of charts) if (c.loaded) c.draw(); };
  for (const input of document.querySelectorAll('input[name="x-axis"], #log-y')) {
    input.addEventListener("change", () => { for (const c of charts) { c.xRange = null; c.window = null; } reloadLoaded(charts); });
  }
  const smoothing = document.getElementById("smoothing");
  const output = document.getElementById("smoothing-value");
  smoothing?.addEventListener("input", debounce(() => { output.textContent = smoothing.value; redraw(); }, 60));
  document.getElementById("reset-zoom")?.addEventListener("click", () => { for (const c of charts) c.resetZoom(); });
  const filter = document.getElementById("chart-filter");
  filter?.addEventListener("input", () => {
    const needle = filter.value.toLowerCase();
    for (const c of charts) c.figure.hidden = needle && !c.key.toLowerCase().includes(needle);
  });
  window.addEventListener("mltrail:theme", redraw);
  return { redraw };
}

function reloadLoaded(charts) {
  for (const c of charts) if (c.loaded) c.load();
}
