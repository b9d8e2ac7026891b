// Helpers shared by every page module, and the few behaviours every page has
// (local times, theme switch, copy buttons, table filters, auto-submitting selects).

/** Build an element. Children that are strings become text nodes: never parsed as HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) { if (typeof value === "function") node.addEventListener(name.slice(2), value); }
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The server's --static-prefix ("" without one), from the page's <meta name="mltrail-root">.
export const ROOT = document.querySelector('meta[name="mltrail-root"]')?.content || "";

/** A path of this server ("/runs/1") as a link that works under the prefix. */
export function url(path) {
  return path.startsWith("/") && !path.startsWith("//") ? ROOT + path : path;
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) {
    const message = (body && (body.message || body.detail)) || `${response.status} ${response.statusText}`;
    const error = new Error(typeof message === "string" ? message : JSON.stringify(message));
    error.body = body;
    throw error;
  }
  return body;
}

export async function getJSON(path, options = {}) {
  return answer(await fetch(url(path), { headers: { Accept: "application/json" }, ...options }));
}

// With --auth, a signed-in page repeats its CSRF cookie in a header on every change.
function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("mltrail_csrf="));
  return found ? decodeURIComponent(found.slice("mltrail_csrf=".length)) : "";
}

export async function postJSON(path, body) {
  return answer(await fetch(url(path), {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRF-Token": csrfToken(),
    },
    body: JSON.stringify(body),
  }));
}

let toastTimer = null;
export function toast(message, isError = false) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.classList.toggle("error", isError);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, isError ? 6000 : 2500);
}

export function formatValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "∞" : "−∞";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return Number(value.toPrecision(4)).toString();
}

export function formatBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

const pad = (n) => String(n).padStart(2, "0");
export function localTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function relativeTime(ms) {
  const seconds = Math.round((Date.now() - ms) / 1000);
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"], [Infinity, "year"]];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) {
      const rounded = Math.round(value);
      return rounded <= 0 && unit === "second" ? "just now" : `${rounded} ${unit}${rounded === 1 ? "" : "s"} ago`;
    }
    value /= size;
  }
  return "";
}

/** Theme colours for charts, read from the CSS variables of the current theme. */
export function themeColors() {
  const style = getComputedStyle(document.documentElement);
  const get = (name) => style.getPropertyValue(name).trim();
  return { text: get("--text"), muted: get("--muted"), border: get("--border"), surface: get("--surface"), font: get("--sans") };
}

// Colour-blind-friendly first, then more distinct hues for long comparisons.
export const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
  "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf"];

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function localizeTimes(root = document) {
  for (const node of root.querySelectorAll("time[data-ms]")) {
    const ms = Number(node.dataset.ms);
    if (!Number.isFinite(ms)) continue;
    node.textContent = localTime(ms);
    node.title = `${relativeTime(ms)} · ${new Date(ms).toISOString()}`;
  }
}

const THEMES = ["auto", "light", "dark"];
const THEME_TITLES = { auto: "Theme: follow the system", light: "Theme: light", dark: "Theme: dark" };

function initTheme() {
  const button = document.getElementById("theme-toggle");
  if (!button) return;
  const show = () => { button.title = THEME_TITLES[document.documentElement.dataset.theme] || ""; };
  show();
  button.addEventListener("click", () => {
    const now = document.documentElement.dataset.theme || "auto";
    const next = THEMES[(THEMES.indexOf(now) + 1) % THEMES.length];
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem("mltrail-theme", next); } catch { /* private mode */ }
    show();
    window.dispatchEvent(new CustomEvent("mltrail:theme"));
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => window.dispatchEvent(new CustomEvent("mltrail:theme")));
}

// Links from MLflow's UI (#/experiments/1/runs/<id>) land on the same pages here.
function followMlflowLink() {
  const m = /^#\/experiments\/(\d+)(?:\/runs\/([0-9a-f]+))?/.exec(window.location.hash);
  if (!m) return false;
  window.location.replace(url(m[2] ? `/runs/${m[2]}` : `/experiments/${m[1]}`));
  return true;
}

function initPage() {
  if (window.__mltrailPage) return; // the module may load under two URLs; set up once
  window.__mltrailPage = true;
  if (followMlflowLink()) return;
  localizeTimes();
  initTheme();
  document.addEventListener("click", async (event) => {
    const copy = event.target.closest("[data-copy]");
    if (!copy) return;
    try { await navigator.clipboard.writeText(copy.dataset.copy); toast("Copied"); } catch { toast("Copy failed", true); }
  });
  for (const select of document.querySelectorAll("form.auto-submit select")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const input of document.querySelectorAll("input.table-filter")) {
    const table = document.getElementById(input.dataset.table);
    input.addEventListener("input", () => {
      const needle = input.value.toLowerCase();
      for (const row of table.tBodies[0].rows) row.hidden = needle && !row.textContent.toLowerCase().includes(needle);
    });
  }
  // Close an open <details> menu on Escape or on a click elsewhere.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const open of document.querySelectorAll("details.menu[open], details.help[open]")) {
      open.open = false;
      open.querySelector("summary")?.focus();
    }
  });
  document.addEventListener("click", (event) => {
    for (const open of document.querySelectorAll("details.menu[open], details.help[open]")) {
      if (!open.contains(event.target)) open.open = false;
    }
  });
}

initPage();
