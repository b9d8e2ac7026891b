// The model registry pages: edit a description, set and remove aliases.
import { postJSON, toast } from "./common.js";

const root = document.getElementById("model");
const name = root?.dataset.modelName;
const version = root?.dataset.version || "";

const view = document.getElementById("description-view");
const form = document.getElementById("description-form");
const text = document.getElementById("description-text");
document.getElementById("edit-description")?.addEventListener("click", () => {
  form.hidden = false;
  view.hidden = true;
  text.focus();
});
document.getElementById("description-cancel")?.addEventListener("click", () => {
  form.hidden = true;
  view.hidden = false;
});
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await postJSON("/ajax-api/ui/models/description", { name, version, description: text.value });
    view.textContent = text.value;  // text, never markup
    form.hidden = true;
    view.hidden = false;
    toast("Description saved");
  } catch (error) {
    toast(error.message, true);
  }
});

const aliasForm = document.getElementById("alias-form");
aliasForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const alias = aliasForm.elements.alias.value.trim();
  try {
    await postJSON("/ajax-api/ui/models/set-alias", { name, alias, version: aliasForm.elements.version.value });
    window.location.reload();
  } catch (error) {
    toast(error.message, true);
  }
});

document.getElementById("alias-list")?.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action='delete-alias']");
  if (!button) return;
  const alias = button.closest("li").dataset.alias;
  try {
    await postJSON("/ajax-api/ui/models/delete-alias", { name, alias });
    window.location.reload();
  } catch (error) {
    toast(error.message, true);
  }
});
