// The runs table: selection and bulk actions, nested runs, column chooser, pinned columns,
// and the caret at a filter error. Sorting, filtering and paging are plain links and forms.
import { postJSON, toast, url } from "./common.js";

const table = document.getElementById("runs-table");
const countLabel = document.getElementById("selection-count");
const selectAll = document.getElementById("select-all");

function selectedIds() {
  return [...document.querySelectorAll("#runs-table input.row-select:checked")].map((box) => box.value);
}

function refreshSelection() {
  const ids = selectedIds();
  for (const button of document.querySelectorAll("[data-bulk]")) {
    button.disabled = ids.length === 0 || (button.dataset.bulk === "compare" && ids.length > 100);
  }
  document.querySelector("[data-bulk-summary]")?.setAttribute("aria-disabled", ids.length ? "false" : "true");
  countLabel.textContent = ids.length ? `${ids.length} run${ids.length === 1 ? "" : "s"} selected` : "No runs selected";
  for (const box of document.querySelectorAll("#runs-table input.row-select")) {
    box.closest("tr").classList.toggle("selected", box.checked);
  }
}

table?.addEventListener("change", (event) => {
  if (event.target === selectAll) {
    for (const box of table.querySelectorAll("input.row-select")) {
      if (!box.closest("tr").hidden) box.checked = selectAll.checked;
    }
  }
  refreshSelection();
});

async function bulk(action) {
  const ids = selectedIds();
  if (!ids.length) return;
  if (action === "compare") {
    window.location.href = url(`/compare?runs=${ids.map(encodeURIComponent).join(",")}`);
    return;
  }
  if (action === "delete" && !window.confirm(`Delete ${ids.length} run(s)? You can restore them from "Deleted runs".`)) return;
  try {
    await postJSON(`/ajax-api/ui/runs/${action}`, { run_ids: ids });
    window.location.reload();
  } catch (error) {
    toast(error.message, true);
  }
}
for (const button of document.querySelectorAll("[data-bulk]")) {
  button.addEventListener("click", () => bulk(button.dataset.bulk));
}

const tagForm = document.getElementById("bulk-tag-form");
tagForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const ids = selectedIds();
  if (!ids.length) { toast("Select runs first", true); return; }
  try {
    await postJSON("/ajax-api/ui/runs/set-tag", { run_ids: ids, key: tagForm.elements.key.value, value: tagForm.elements.value.value });
    toast(`Tagged ${ids.length} run(s)`);
    window.location.reload();
  } catch (error) {
    toast(error.message, true);
  }
});

// Nested runs: children follow their parent, hidden until the parent is opened.
function setOpen(row, open) {
  const button = row.querySelector(".twisty");
  if (button) button.setAttribute("aria-expanded", String(open));
  for (const child of table.querySelectorAll(`tr[data-parent="${CSS.escape(row.dataset.runId)}"]`)) {
    child.hidden = !open;
    if (!open) setOpen(child, false);
  }
  pinColumns();
}
table?.addEventListener("click", (event) => {
  const button = event.target.closest(".twisty");
  if (!button) return;
  const row = button.closest("tr");
  setOpen(row, button.getAttribute("aria-expanded") !== "true");
});

// Pinned columns stick to the left: their offsets are the widths of the pinned cells before.
function pinColumns() {
  if (!table) return;
  const head = table.tHead.rows[0];
  const lefts = [];
  let left = 0;
  for (const cell of head.cells) {
    if (cell.classList.contains("pinned")) { lefts.push(left); left += cell.getBoundingClientRect().width; } else lefts.push(null);
  }
  for (const row of table.rows) {
    let index = 0;
    for (const cell of row.cells) {
      if (cell.classList.contains("pinned") && lefts[index] !== null && lefts[index] !== undefined) cell.style.left = `${lefts[index]}px`;
      index += cell.colSpan || 1;
    }
  }
}
pinColumns();
window.addEventListener("resize", pinColumns);

// Column chooser: move columns up and down, find keys to add.
const chosen = document.getElementById("chosen-columns");
chosen?.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-move]");
  if (!button) return;
  const item = button.closest("li");
  if (button.dataset.move === "-1" && item.previousElementSibling) item.previousElementSibling.before(item);
  if (button.dataset.move === "1" && item.nextElementSibling) item.nextElementSibling.after(item);
  button.focus();
});
const columnSearch = document.querySelector(".column-search");
columnSearch?.addEventListener("input", () => {
  const needle = columnSearch.value.toLowerCase();
  for (const item of document.querySelectorAll(".available-columns li")) {
    item.hidden = needle && !item.textContent.toLowerCase().includes(needle);
  }
});

// A filter that did not parse: put the caret where it broke.
const filter = document.getElementById("run-filter");
if (filter && filter.dataset.errorPosition) {
  const position = Number(filter.dataset.errorPosition);
  filter.focus();
  filter.setSelectionRange(position, Math.min(position + 1, filter.value.length));
}

refreshSelection();
