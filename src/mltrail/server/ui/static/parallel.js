// Parallel coordinates in plain SVG: one vertical axis per field, one line per run, coloured
// by a metric. Drag along an axis to keep only the runs inside that range (double-click the
// axis to clear). SVG rather than plotly's WebGL parcoords: it draws everywhere, including
// machines and browsers without WebGL, and a comparison holds at most a hundred runs.
import { themeColors } from "./common.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text; // labels are user content: text only
  return node;
}

function viridis(t) {
  // A few stops of the viridis scale, linearly blended: readable on light and dark themes.
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(x);
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function short(text, n = 18) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/**
 * Draw into ``box``. ``axes``: [{label, values: number[] | null-holes, ticks?: [value, text][]}],
 * ``items``: [{name, id}] in the same order as the values, ``color``: number[] or null.
 */
export function drawParallel(box, axes, items, color) {
  const c = themeColors();
  const width = Math.max(360, box.clientWidth || 800);
  const height = Math.max(260, box.clientHeight || 420);
  const pad = { top: 42, bottom: 28, left: 56, right: 56 };
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "parallel", role: "img" });
  const step = axes.length > 1 ? (width - pad.left - pad.right) / (axes.length - 1) : 0;
  const y0 = pad.top;
  const y1 = height - pad.bottom;
  const scales = axes.map((axis) => {
    const finite = axis.values.filter((v) => Number.isFinite(v));
    let lo = Math.min(...finite);
    let hi = Math.max(...finite);
    if (!finite.length) { lo = 0; hi = 1; }
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    return { lo, hi, y: (v) => y1 - ((v - lo) / (hi - lo)) * (y1 - y0), v: (y) => lo + ((y1 - y) / (y1 - y0)) * (hi - lo) };
  });
  const cmin = color ? Math.min(...color.filter(Number.isFinite)) : 0;
  const cmax = color ? Math.max(...color.filter(Number.isFinite)) : 1;
  const brushes = axes.map(() => null); // [vlo, vhi] per axis

  const lines = svg("g", { fill: "none" });
  const paths = items.map((item, i) => {
    const points = axes.map((axis, a) => (Number.isFinite(axis.values[i]) ? `${pad.left + a * step},${scales[a].y(axis.values[i]).toFixed(1)}` : null)).filter(Boolean);
    const stroke = color && Number.isFinite(color[i]) ? viridis((color[i] - cmin) / (cmax - cmin || 1)) : "#4e79a7";
    const path = svg("polyline", { points: points.join(" "), stroke, "stroke-width": 1.6, opacity: 0.85 });
    path.append(svg("title", {}, item.name));
    path.addEventListener("mouseenter", () => path.setAttribute("stroke-width", 3.5));
    path.addEventListener("mouseleave", () => path.setAttribute("stroke-width", 1.6));
    lines.append(path);
    return path;
  });
  root.append(lines);

  function applyBrushes() {
    items.forEach((_, i) => {
      const keep = brushes.every((b, a) => !b || (Number.isFinite(axes[a].values[i]) && axes[a].values[i] >= b[0] && axes[a].values[i] <= b[1]));
      paths[i].setAttribute("opacity", keep ? 0.85 : 0.06);
    });
  }

  axes.forEach((axis, a) => {
    const x = pad.left + a * step;
    const s = scales[a];
    const g = svg("g", { class: "axis" });
    g.append(svg("line", { x1: x, x2: x, y1: y0, y2: y1, stroke: c.muted, "stroke-width": 1 }));
    const ticks = axis.ticks || [0, 0.25, 0.5, 0.75, 1].map((t) => { const v = s.lo + t * (s.hi - s.lo); return [v, Number(v.toPrecision(3)).toString()]; });
    for (const [v, text] of ticks) {
      const y = s.y(v);
      g.append(svg("line", { x1: x - 4, x2: x, y1: y, y2: y, stroke: c.muted }));
      g.append(svg("text", { x: x - 6, y: y + 3, "text-anchor": "end", "font-size": 10, fill: c.muted }, short(text, 12)));
    }
    const label = svg("text", { x, y: y0 - 14, "text-anchor": "middle", "font-size": 11, "font-weight": 600, fill: c.text }, short(axis.label, 22));
    label.append(svg("title", {}, axis.label));
    g.append(label);
    const band = svg("rect", { x: x - 7, width: 14, y: 0, height: 0, fill: c.text, opacity: 0.15 });
    const hit = svg("rect", { x: x - 12, y: y0, width: 24, height: y1 - y0, fill: "transparent", cursor: "ns-resize" });
    let start = null;
    const yOf = (event) => Math.min(y1, Math.max(y0, event.clientY - root.getBoundingClientRect().top));
    hit.addEventListener("pointerdown", (event) => { start = yOf(event); hit.setPointerCapture(event.pointerId); });
    hit.addEventListener("pointermove", (event) => {
      if (start === null) return;
      const [ya, yb] = [start, yOf(event)].sort((p, q) => p - q);
      band.setAttribute("y", ya);
      band.setAttribute("height", yb - ya);
      brushes[a] = yb - ya > 2 ? [s.v(yb), s.v(ya)] : null;
      applyBrushes();
    });
    hit.addEventListener("pointerup", () => { start = null; });
    hit.addEventListener("dblclick", () => { brushes[a] = null; band.setAttribute("height", 0); applyBrushes(); });
    g.append(band, hit);
    root.append(g);
  });
  box.replaceChildren(root);
}
