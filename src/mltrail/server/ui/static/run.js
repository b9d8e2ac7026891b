// The run page: charts (live while RUNNING), description, tags, rename, artifacts.
import { el, postJSON, getJSON, toast, formatValue } from "./common.js";
import { MetricChart } from "./chart.js";
import { setUpChartGrid } from "./charts_page.js";
import { setUpArtifacts } from "./artifacts.js";

const data = JSON.parse(document.getElementById("run-data").textContent);
const runId = data.run_id;

const charts = [...document.querySelectorAll("#chart-grid .chart-card")].map(
  (figure) => new MetricChart(figure, { runIds: [runId], key: figure.dataset.key, names: { [runId]: document.getElementById("run-name").textContent } }),
);
setUpChartGrid(charts);

// Live refresh: poll the run's summary; redraw charts whose latest step moved.
const LIVE_MS = 5000;
const lastSteps = {};
async function poll() {
  let summary;
  try { summary = await getJSON(`/ajax-api/ui/runs/${encodeURIComponent(runId)}/summary`); } catch { return schedule(); }
  for (const row of document.querySelectorAll("#metrics-table tr[data-metric]")) {
    const m = summary.metrics[row.dataset.metric];
    if (!m) continue;
    row.querySelector(".latest").textContent = m.value === null ? "NaN" : formatValue(m.value);
    row.querySelector(".step").textContent = m.step;
  }
  document.getElementById("run-duration").textContent = summary.duration;
  for (const chart of charts) {
    const m = summary.metrics[chart.key];
    if (m && chart.loaded && !chart.window && lastSteps[chart.key] !== m.step) chart.load();
    if (m) lastSteps[chart.key] = m.step;
  }
  if (summary.status !== "RUNNING") {
    document.getElementById("live-indicator").hidden = true;
    const badge = document.querySelector("#run-status .status");
    if (badge) { badge.className = `status status-${summary.status.toLowerCase()}`; badge.lastChild.textContent = summary.status[0] + summary.status.slice(1).toLowerCase(); }
    return;
  }
  schedule();
}
function schedule() { setTimeout(poll, LIVE_MS); }
if (data.status === "RUNNING") {
  const live = document.getElementById("live-indicator");
  if (live) live.hidden = false;
  schedule();
}

// Rename.
document.getElementById("rename-run")?.addEventListener("click", async () => {
  const heading = document.getElementById("run-name");
  const name = window.prompt("New run name", heading.textContent);
  if (!name || !name.trim()) return;
  try {
    const answer = await postJSON("/ajax-api/ui/runs/rename", { run_id: runId, name });
    heading.textContent = answer.name;
    document.title = `${answer.name} · mltrail`;
    toast("Renamed");
  } catch (error) { toast(error.message, true); }
});

// Description: markdown, rendered safely by the server.
const noteView = document.getElementById("note-view");
const noteForm = document.getElementById("note-form");
const noteText = document.getElementById("note-text");
const editNote = document.getElementById("edit-note");
function showNoteForm(open) {
  noteForm.hidden = !open;
  noteView.hidden = open;
  editNote.hidden = open;
  if (open) noteText.focus(); else editNote.focus();
}
editNote?.addEventListener("click", () => showNoteForm(true));
document.getElementById("note-cancel")?.addEventListener("click", () => showNoteForm(false));
noteForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const answer = await postJSON("/ajax-api/ui/runs/note", { run_id: runId, text: noteText.value });
    // The server's markdown renderer escapes all HTML the user typed: this is safe markup.
    noteView.innerHTML = answer.html || '<p class="subtle">No description.</p>';
    showNoteForm(false);
    toast("Description saved");
  } catch (error) { toast(error.message, true); }
});

// Tags: set (add or overwrite), edit in the form, delete.
const tagForm = document.getElementById("tag-form");
const tagsBody = document.querySelector("#tags-table tbody");
function tagRow(key, value) {
  return el("tr", { "data-key": key },
    el("td", { class: "mono" }, key), el("td", { class: "mono wrap" }, value),
    el("td", { class: "actions" },
      el("button", { type: "button", class: "link", "data-tag-edit": true }, "Edit"),
      el("button", { type: "button", class: "link danger", "data-tag-delete": true }, "Delete")));
}
tagForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = tagForm.elements.key.value.trim();
  const value = tagForm.elements.value.value;
  try {
    await postJSON("/ajax-api/ui/runs/set-tag", { run_ids: [runId], key, value });
    tagsBody.querySelector(".empty-row")?.remove();
    const existing = [...tagsBody.rows].find((r) => r.dataset.key === key);
    const row = tagRow(key, value);
    if (existing) existing.replaceWith(row); else tagsBody.append(row);
    tagForm.reset();
    toast("Tag saved");
  } catch (error) { toast(error.message, true); }
});
tagsBody?.addEventListener("click", async (event) => {
  const row = event.target.closest("tr[data-key]");
  if (!row) return;
  if (event.target.closest("[data-tag-edit]")) {
    tagForm.elements.key.value = row.dataset.key;
    tagForm.elements.value.value = row.cells[1].textContent;
    tagForm.elements.value.focus();
  } else if (event.target.closest("[data-tag-delete]")) {
    try {
      await postJSON("/ajax-api/ui/runs/delete-tag", { run_ids: [runId], key: row.dataset.key });
      row.remove();
      toast("Tag deleted");
    } catch (error) { toast(error.message, true); }
  }
});

setUpArtifacts(runId);
