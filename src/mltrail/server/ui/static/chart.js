// Metric charts drawn with plotly.js. The server sends at most ~2 points per pixel (min and
// max per step bucket); zooming asks again for the visible step window, so detail appears
// as soon as it fits, and a double click goes back to the whole history.
import { getJSON, themeColors, PALETTE, formatValue } from "./common.js";

const TZ_MS = new Date().getTimezoneOffset() * 60000;

/** plotly.js loads as an async classic script, in parallel with the data; wait for it. */
export function whenPlotly() {
  if (window.Plotly) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => (window.Plotly ? resolve() : setTimeout(check, 10));
    check();
  });
}

/** The chart options every chart on a page shares, read from the controls. */
export function readOptions() {
  const x = document.querySelector('input[name="x-axis"]:checked');
  return {
    xMode: x ? x.value : "step",
    smoothing: Number(document.getElementById("smoothing")?.value || 0),
    logY: Boolean(document.getElementById("log-y")?.checked),
  };
}

/** Exponential moving average with TensorBoard's debiasing; gaps (null) stay gaps. */
export function smooth(values, weight) {
  if (!weight) return values;
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * weight + (1 - weight) * v;
    count += 1;
    return last / (1 - weight ** count);
  });
}

/** x values of a series for an x-axis mode. Wall time is shifted so plotly shows local time. */
export function xValues(series, mode) {
  if (mode === "step") return series.steps;
  if (mode === "relative") {
    const t0 = series.timestamps.length ? Math.min(...series.timestamps.slice(0, 50)) : 0;
    return series.timestamps.map((t) => (t - t0) / 1000);
  }
  return series.timestamps.map((t) => t - TZ_MS);
}

function xNumber(value, mode) {
  if (mode !== "wall") return Number(value);
  return Date.parse(String(value).replace(" ", "T") + "Z") + TZ_MS;
}

/** The step window [lo, hi] that covers an x range, from the points on screen. */
export function stepWindow(seriesList, mode, range) {
  if (mode === "step") return [Math.floor(range[0]), Math.ceil(range[1])];
  const [a, b] = [xNumber(range[0], mode), xNumber(range[1], mode)];
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of seriesList) {
    const xs = xValues(s, mode).map((x) => (mode === "wall" ? x + TZ_MS : x));
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] >= a && xs[i] <= b) {
        lo = Math.min(lo, s.steps[Math.max(0, i - 1)]);
        hi = Math.max(hi, s.steps[Math.min(xs.length - 1, i + 1)]);
      }
    }
  }
  return Number.isFinite(lo) ? [lo, hi] : null;
}

export function baseLayout(options, extra = {}) {
  const c = themeColors();
  const axis = { gridcolor: c.border, zerolinecolor: c.border, linecolor: c.border, color: c.muted, automargin: true };
  return {
    margin: { l: 48, r: 12, t: 8, b: 36 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: c.font, size: 11, color: c.text },
    showlegend: false,
    hovermode: "x unified",
    hoverlabel: { namelength: 40 },
    xaxis: {
      ...axis,
      type: options.xMode === "wall" ? "date" : "linear",
      title: { text: options.xMode === "step" ? "step" : options.xMode === "relative" ? "seconds" : "" },
    },
    yaxis: { ...axis, type: options.logY ? "log" : "linear", exponentformat: "SI" },
    ...extra,
  };
}

export const PLOT_CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
};

/** Text for plotly labels, which understand a little HTML: user names must stay text. */
export function plain(text) {
  return String(text).replace(/</g, "\u2039").replace(/>/g, "\u203a").replace(/&/g, "\uff06");
}

/** Line traces for runs: the smoothed line on top of the faint raw one. */
export function lineTraces(seriesList, options, names, colors) {
  const traces = [];
  seriesList.forEach((s, i) => {
    const x = xValues(s, options.xMode);
    const color = colors[i % colors.length];
    const name = plain(names[s.run_id] || s.run_id.slice(0, 8));
    if (options.smoothing > 0) {
      traces.push({ x, y: s.values, type: "scatter", mode: "lines", line: { color, width: 1 }, opacity: 0.25, hoverinfo: "skip", name });
    }
    traces.push({
      x,
      y: smooth(s.values, options.smoothing),
      type: "scatter",
      mode: s.steps.length === 1 ? "markers" : "lines",
      line: { color, width: 1.6 },
      marker: { color, size: 6 },
      name,
      hovertemplate: "%{y:.5g}",
    });
  });
  return traces;
}

/**
 * One chart of one metric for some runs. ``render(seriesList)`` returns plotly traces, so the
 * compare page can draw groups with bands from the same data.
 */
export class MetricChart {
  constructor(figure, { runIds, key, names = {}, colors = PALETTE, render = null, onDraw = null }) {
    this.figure = figure;
    this.box = figure.querySelector(".chart");
    this.runIds = runIds;
    this.key = key;
    this.names = names;
    this.colors = colors;
    this.render = render;
    this.onDraw = onDraw;
    this.series = [];
    this.window = null; // [lo, hi] steps when zoomed
    this.xRange = null;
    this.loaded = false;
    this.request = 0;
  }

  maxPoints() {
    return Math.max(200, Math.min(4000, Math.round((this.box.clientWidth || 600) * 2)));
  }

  async load() {
    const ticket = ++this.request;
    const params = new URLSearchParams({ run_ids: this.runIds.join(","), key: this.key, max_points: String(this.maxPoints()) });
    if (this.window) { params.set("start_step", String(this.window[0])); params.set("end_step", String(this.window[1])); }
    try {
      const data = await getJSON(`/ajax-api/ui/metric-history?${params}`);
      await whenPlotly();
      if (ticket !== this.request) return; // a newer request (zoom) superseded this one
      this.series = data.series;
      this.loaded = true;
      this.draw();
    } catch (error) {
      this.box.replaceChildren(Object.assign(document.createElement("div"), { className: "chart-message", textContent: `Could not load: ${error.message}` }));
    }
  }

  draw() {
    if (!window.Plotly) return;
    const options = readOptions();
    const traces = this.render ? this.render(this.series, options) : lineTraces(this.series, options, this.names, this.colors);
    const layout = baseLayout(options);
    if (this.xRange) layout.xaxis.range = this.xRange; else layout.xaxis.autorange = true;
    const points = this.series.reduce((n, s) => n + s.steps.length, 0);
    let label = this.figure.querySelector("figcaption .point-count");
    if (!label) { label = document.createElement("span"); label.className = "point-count"; this.figure.querySelector("figcaption")?.append(label); }
    label.textContent = `${points.toLocaleString()} pts${this.window ? " · zoomed" : ""}`;
    const first = !this.box.classList.contains("js-plotly-plot");
    if (first) this.box.replaceChildren();
    window.Plotly.react(this.box, traces, layout, PLOT_CONFIG).then(() => {
      // For benchmarks and the curious: when the page first showed a chart.
      if (!performance.getEntriesByName("mltrail:first-chart").length) performance.mark("mltrail:first-chart");
    });
    if (first) this.box.on("plotly_relayout", (event) => this.relayout(event));
    this.onDraw?.(this);
  }

  relayout(event) {
    if (this.ignoreRelayout) return;
    if (event["xaxis.autorange"]) return this.resetZoom();
    const lo = event["xaxis.range[0]"] ?? event["xaxis.range"]?.[0];
    const hi = event["xaxis.range[1]"] ?? event["xaxis.range"]?.[1];
    if (lo === undefined || hi === undefined) return;
    const options = readOptions();
    const window = stepWindow(this.series, options.xMode, [lo, hi]);
    this.xRange = [lo, hi];
    if (!window) return;
    this.window = window;
    this.load();
  }

  resetZoom() {
    if (!this.window && !this.xRange) return;
    this.window = null;
    this.xRange = null;
    this.load();
  }
}

export { formatValue };
