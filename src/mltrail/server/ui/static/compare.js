// The compare page: "only differences", overlaid or grouped metric charts, parallel
// coordinates and a scatter of any two values.
import { el, PALETTE, themeColors, debounce } from "./common.js";
import { MetricChart, baseLayout, lineTraces, plain, smooth, xValues, PLOT_CONFIG } from "./chart.js";
import { setUpChartGrid, whenPlotly } from "./charts_page.js";
import { drawParallel as drawParallelSvg } from "./parallel.js";

const data = JSON.parse(document.getElementById("compare-data").textContent);
const runs = data.runs;
const names = Object.fromEntries(runs.map((r) => [r.run_id, r.name]));
const colorOf = Object.fromEntries(runs.map((r, i) => [r.run_id, PALETTE[i % PALETTE.length]]));
for (const chip of document.querySelectorAll("#run-chips li")) {
  chip.querySelector(".swatch").style.background = colorOf[chip.dataset.runId];
}

// Differences only.
const onlyDiff = document.getElementById("only-diff");
onlyDiff?.addEventListener("change", () => document.getElementById("diff-table").classList.toggle("only-diff", onlyDiff.checked));

// -- metric charts, one line per run or one band per group --------------------------------------
const groupSelect = document.getElementById("group-by");
const bandSelect = document.getElementById("band");

function valueOf(run, field) {
  const [kind, ...rest] = field.split(".");
  const key = rest.join(".");
  return (run[kind] || {})[key];
}

function interpolate(xs, ys, x) {
  if (!xs.length || x < xs[0] || x > xs[xs.length - 1]) return null;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid; else hi = mid;
  }
  if (ys[lo] === null || ys[hi] === null) return ys[lo] ?? ys[hi];
  if (xs[hi] === xs[lo]) return ys[lo];
  return ys[lo] + ((ys[hi] - ys[lo]) * (x - xs[lo])) / (xs[hi] - xs[lo]);
}

/** Mean line plus a min–max or ±std band per group, on a shared grid of x values. */
export function groupTraces(seriesList, options, field, band) {
  const groups = new Map();
  for (const s of seriesList) {
    const run = runs.find((r) => r.run_id === s.run_id);
    const value = valueOf(run, field) ?? "(none)";
    if (!groups.has(value)) groups.set(value, []);
    groups.get(value).push(s);
  }
  const traces = [];
  let index = 0;
  for (const [value, members] of groups) {
    const color = PALETTE[index++ % PALETTE.length];
    const lines = members.map((s) => {
      const xs = xValues(s, options.xMode);
      return { xs, ys: smooth(s.values, options.smoothing) };
    }).filter((l) => l.xs.length);
    if (!lines.length) continue;
    const x0 = Math.min(...lines.map((l) => l.xs[0]));
    const x1 = Math.max(...lines.map((l) => l.xs[l.xs.length - 1]));
    const n = x1 > x0 ? 400 : 1;
    const grid = Array.from({ length: n }, (_, i) => (n === 1 ? x0 : x0 + ((x1 - x0) * i) / (n - 1)));
    const mean = [];
    const lower = [];
    const upper = [];
    for (const x of grid) {
      const ys = lines.map((l) => interpolate(l.xs, l.ys, x)).filter((y) => y !== null && Number.isFinite(y));
      if (!ys.length) { mean.push(null); lower.push(null); upper.push(null); continue; }
      const m = ys.reduce((a, b) => a + b, 0) / ys.length;
      const sd = Math.sqrt(ys.reduce((a, b) => a + (b - m) ** 2, 0) / ys.length);
      mean.push(m);
      lower.push(band === "std" ? m - sd : Math.min(...ys));
      upper.push(band === "std" ? m + sd : Math.max(...ys));
    }
    const label = plain(`${field.split(".").slice(1).join(".")}=${value} (${lines.length})`);
    if (band !== "none") {
      traces.push({ x: grid, y: lower, type: "scatter", mode: "lines", line: { width: 0, color }, hoverinfo: "skip", showlegend: false });
      traces.push({ x: grid, y: upper, type: "scatter", mode: "lines", line: { width: 0, color }, fill: "tonexty", fillcolor: `${color}33`, hoverinfo: "skip", showlegend: false });
    }
    traces.push({ x: grid, y: mean, type: "scatter", mode: "lines", line: { color, width: 2 }, name: label, hovertemplate: "%{y:.5g}" });
  }
  return traces;
}

function renderSeries(seriesList, options) {
  const field = groupSelect?.value;
  if (!field) {
    return lineTraces(seriesList, options, names, seriesList.map((s) => colorOf[s.run_id]));
  }
  return groupTraces(seriesList, options, field, bandSelect.value);
}

const charts = [...document.querySelectorAll("#chart-grid .chart-card")].map((figure) => new MetricChart(figure, {
  runIds: runs.map((r) => r.run_id),
  key: figure.dataset.key,
  names,
  render: renderSeries,
  onDraw: (chart) => {
    if (groupSelect?.value) window.Plotly.relayout(chart.box, { showlegend: true, legend: { orientation: "h", y: -0.25 } });
  },
}));
const grid = setUpChartGrid(charts);
groupSelect?.addEventListener("change", grid.redraw);
bandSelect?.addEventListener("change", grid.redraw);

// -- parallel coordinates and scatter over params and latest metrics ----------------------------
const fields = [...data.param_keys.map((k) => `params.${k}`), ...data.metric_keys.map((k) => `metrics.${k}`)];

function numeric(field) {
  return runs.every((r) => { const v = valueOf(r, field); return v === undefined || v === null || v === "" || Number.isFinite(Number(v)); });
}

function axis(field, members) {
  const raw = members.map((r) => valueOf(r, field));
  if (numeric(field)) return { label: field, values: raw.map((v) => (v === undefined || v === "" ? NaN : Number(v))) };
  const categories = [...new Set(raw.filter((v) => v !== undefined).map(String))].sort();
  const spread = (i) => (categories.length > 1 ? i / (categories.length - 1) : 0.5);
  return {
    label: field,
    values: raw.map((v) => (v === undefined ? NaN : spread(categories.indexOf(String(v))))),
    ticks: categories.map((name, i) => [spread(i), name]),
  };
}

const axesBox = document.getElementById("parallel-axes");
const colorSelect = document.getElementById("parallel-color");
const varying = fields.filter((f) => new Set(runs.map((r) => valueOf(r, f)).filter((v) => v !== undefined).map(String)).size > 1);
const defaults = new Set([...varying.filter((f) => f.startsWith("params.")).slice(0, 6), ...varying.filter((f) => f.startsWith("metrics.")).slice(0, 4)]);
for (const field of fields) {
  axesBox?.append(el("label", {}, el("input", { type: "checkbox", value: field, checked: defaults.has(field) }), field));
}
for (const field of data.metric_keys) colorSelect?.append(el("option", { value: `metrics.${field}` }, field));

function drawParallel() {
  const box = document.getElementById("parallel-chart");
  const chosen = [...axesBox.querySelectorAll("input:checked")].map((i) => i.value);
  const members = runs.filter((r) => chosen.some((f) => valueOf(r, f) !== undefined));
  if (chosen.length < 2 || !members.length) {
    box.replaceChildren(el("div", { class: "chart-message" }, chosen.length < 2 ? "Choose at least two axes." : "No run has these values."));
    return;
  }
  const colorField = colorSelect.value;
  const colors = colorField ? members.map((r) => Number(valueOf(r, colorField))) : null;
  drawParallelSvg(box, chosen.map((f) => axis(f, members)), members.map((r) => ({ name: r.name, id: r.run_id })), colors);
}

const xSelect = document.getElementById("scatter-x");
const ySelect = document.getElementById("scatter-y");
for (const field of fields) {
  xSelect?.append(el("option", { value: field }, field));
  ySelect?.append(el("option", { value: field }, field));
}
if (xSelect && ySelect) {
  xSelect.value = varying.find((f) => f.startsWith("params.")) || fields[0] || "";
  ySelect.value = varying.find((f) => f.startsWith("metrics.")) || fields[fields.length - 1] || "";
}

function drawScatter() {
  const box = document.getElementById("scatter-chart");
  const [fx, fy] = [xSelect.value, ySelect.value];
  const members = runs.filter((r) => valueOf(r, fx) !== undefined && valueOf(r, fy) !== undefined);
  if (!fx || !fy || !members.length) {
    box.replaceChildren(el("div", { class: "chart-message" }, "No run has both values."));
    return;
  }
  if (!box.classList.contains("js-plotly-plot")) box.replaceChildren();
  const asValue = (f, r) => (numeric(f) ? Number(valueOf(r, f)) : String(valueOf(r, f)));
  const trace = {
    type: "scatter", mode: "markers",
    x: members.map((r) => asValue(fx, r)), y: members.map((r) => asValue(fy, r)),
    text: members.map((r) => plain(r.name)),
    marker: { size: 11, color: members.map((r) => colorOf[r.run_id]), line: { width: 1, color: themeColors().surface } },
    hovertemplate: "%{text}<br>%{x}, %{y}<extra></extra>",
  };
  const layout = baseLayout({ xMode: "step" }, { hovermode: "closest" });
  layout.xaxis.title = { text: plain(fx) };
  layout.yaxis.title = { text: plain(fy) };
  window.Plotly.react(box, [trace], layout, PLOT_CONFIG);
}

if (fields.length) drawParallel();
axesBox?.addEventListener("change", drawParallel);
colorSelect?.addEventListener("change", drawParallel);
window.addEventListener("resize", debounce(drawParallel, 150));
whenPlotly().then(() => {
  if (fields.length) drawScatter();
  xSelect?.addEventListener("change", drawScatter);
  ySelect?.addEventListener("change", drawScatter);
  window.addEventListener("mltrail:theme", () => { drawParallel(); drawScatter(); });
});
