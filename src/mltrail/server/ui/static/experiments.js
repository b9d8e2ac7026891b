// The experiments list: create, rename in place, delete, restore, open several together.
import { el, postJSON, toast, url } from "./common.js";

const createForm = document.getElementById("create-experiment");
createForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = createForm.elements.name.value.trim();
  if (!name) return;
  try {
    const { experiment_id } = await postJSON("/ajax-api/ui/experiments/create", { name });
    window.location.href = url(`/experiments/${encodeURIComponent(experiment_id)}`);
  } catch (error) {
    toast(error.message, true);
  }
});

function startRename(row) {
  const cell = row.querySelector("td.name");
  const link = cell.querySelector("a");
  const input = el("input", { value: row.dataset.name, "aria-label": "New name", maxlength: 500 });
  const save = el("button", { type: "submit", class: "primary" }, "Save");
  const cancel = el("button", { type: "button" }, "Cancel");
  const form = el("form", { class: "inline-form" }, input, save, cancel);
  link.hidden = true;
  cell.prepend(form);
  input.focus();
  input.select();
  const close = () => { form.remove(); link.hidden = false; link.focus(); };
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    try {
      await postJSON("/ajax-api/ui/experiments/rename", { experiment_id: row.dataset.experimentId, name });
      row.dataset.name = name;
      link.textContent = name;
      close();
      toast("Renamed");
    } catch (error) {
      toast(error.message, true);
    }
  });
}

document.querySelector("table.experiments")?.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const row = button.closest("tr");
  const id = row.dataset.experimentId;
  const action = button.dataset.action;
  if (action === "rename") return startRename(row);
  if (action === "delete" && !window.confirm(`Delete experiment “${row.dataset.name}” and its runs? You can restore it later.`)) return;
  try {
    await postJSON(`/ajax-api/ui/experiments/${action}`, { experiment_id: id });
    window.location.reload();
  } catch (error) {
    toast(error.message, true);
  }
});

const openSelected = document.getElementById("open-selected");
const count = document.getElementById("selection-count");
function selected() {
  return [...document.querySelectorAll("input.row-select:checked")].map((box) => box.value);
}
document.addEventListener("change", (event) => {
  if (!event.target.matches("input.row-select")) return;
  const ids = selected();
  openSelected.disabled = ids.length === 0;
  count.textContent = ids.length ? `${ids.length} selected` : "";
});
openSelected?.addEventListener("click", () => {
  window.location.href = url(`/experiments/${selected().map(encodeURIComponent).join(",")}`);
});
