// The artifact browser: a lazily loaded folder tree and a preview pane. Everything a user
// logged is inserted as text or loaded from the sandboxed raw route, never as markup.
import { el, getJSON, formatBytes, url } from "./common.js";

export function setUpArtifacts(runId) {
  const tree = document.getElementById("artifact-tree");
  const pane = document.getElementById("artifact-preview");
  if (!tree || !pane) return;
  const run = encodeURIComponent(runId);
  const rawUrl = (path, download = false) => url(`/ui/artifacts/${run}/raw?path=${encodeURIComponent(path)}${download ? "&download=1" : ""}`);
  const zipUrl = (path) => url(`/ui/artifacts/${run}/zip?path=${encodeURIComponent(path)}`);
  let current = null;

  async function listing(path) {
    return getJSON(`/ajax-api/ui/artifacts?run_id=${run}&path=${encodeURIComponent(path)}`);
  }

  function entryNode(entry) {
    const label = [el("span", { "aria-hidden": "true" }, entry.is_dir ? "▸ " : "• "), entry.name];
    if (!entry.is_dir && entry.size !== null) label.push(el("span", { class: "size" }, formatBytes(entry.size)));
    const button = el("button", { type: "button", "data-path": entry.path, title: entry.path }, ...label);
    const item = el("li", {}, button);
    if (entry.is_dir) {
      button.setAttribute("aria-expanded", "false");
      button.addEventListener("click", () => toggleFolder(item, button, entry));
    } else {
      button.addEventListener("click", () => select(button, entry));
    }
    return item;
  }

  async function toggleFolder(item, button, entry) {
    const open = button.getAttribute("aria-expanded") === "true";
    showFolder(button, entry);
    button.setAttribute("aria-expanded", String(!open));
    button.firstChild.textContent = open ? "▸ " : "▾ ";
    let list = item.querySelector("ul");
    if (open) { if (list) list.hidden = true; return; }
    if (!list) {
      list = el("ul", {}, el("li", { class: "subtle" }, "Loading…"));
      item.append(list);
      try {
        const data = await listing(entry.path);
        list.replaceChildren(...(data.entries.length ? data.entries.map(entryNode) : [el("li", { class: "subtle" }, "Empty folder")]));
      } catch (error) {
        list.replaceChildren(el("li", { class: "subtle" }, error.message));
      }
    }
    list.hidden = false;
  }

  function mark(button) {
    current?.removeAttribute("aria-current");
    button.setAttribute("aria-current", "true");
    current = button;
  }

  function head(path, size, ...actions) {
    return el("div", { class: "preview-head" }, el("span", { class: "path" }, path),
      size !== null && size !== undefined ? el("span", { class: "subtle" }, formatBytes(size)) : null, el("span", { class: "spacer" }), ...actions);
  }

  function showFolder(button, entry) {
    mark(button);
    pane.replaceChildren(head(`${entry.path}/`, null, el("a", { class: "button", href: zipUrl(entry.path) }, "Download folder (zip)")),
      el("p", { class: "subtle" }, "A folder. Open it in the tree to see its files."));
  }

  async function select(button, entry) {
    mark(button);
    const download = el("a", { class: "button", href: rawUrl(entry.path, true) }, "Download");
    pane.replaceChildren(head(entry.path, entry.size, download), el("p", { class: "subtle" }, "Loading preview…"));
    let preview;
    try {
      preview = await getJSON(`/ajax-api/ui/artifacts/preview?run_id=${run}&path=${encodeURIComponent(entry.path)}`);
    } catch (error) {
      pane.replaceChildren(head(entry.path, entry.size, download), el("p", { class: "alert error" }, error.message));
      return;
    }
    if (current !== button) return; // another file was chosen meanwhile
    const open = el("a", { class: "button", href: rawUrl(entry.path), target: "_blank", rel: "noopener" }, "Open raw");
    pane.replaceChildren(head(entry.path, entry.size, open, download), ...render(preview, entry));
  }

  function render(preview, entry) {
    const notes = [];
    if (preview.note) notes.push(el("p", { class: "subtle" }, preview.note));
    if (preview.truncated) notes.push(el("p", { class: "subtle" }, "Showing the beginning of the file. Download it to see all of it."));
    switch (preview.kind) {
      case "image":
        return [el("img", { src: rawUrl(entry.path), alt: `Image ${entry.name}`, loading: "lazy" })];
      case "html":
        // sandbox="" : no scripts, no same-origin; the response also carries CSP: sandbox.
        return [el("iframe", { src: rawUrl(entry.path), sandbox: "", referrerpolicy: "no-referrer", title: `HTML artifact ${entry.name}` })];
      case "table":
        return [...notes, table(preview.columns, preview.rows, preview.total_rows)];
      case "mlmodel":
        return [mlmodel(preview.summary || {}), el("details", {}, el("summary", {}, "MLmodel file"), el("pre", {}, el("code", {}, preview.text)))];
      case "binary":
        return [...notes, el("p", { class: "subtle" }, "No preview for this kind of file. Download it to open it.")];
      default:
        return [...notes, el("pre", { class: `lang-${preview.kind}` }, el("code", {}, preview.text ?? ""))];
    }
  }

  function table(columns, rows, total) {
    const head = el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col" }, c))));
    const body = el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((v) => el("td", {}, v)))));
    const caption = `${rows.length.toLocaleString()} row${rows.length === 1 ? "" : "s"}${total ? ` of ${total.toLocaleString()}` : ""} × ${columns.length} columns`;
    return el("div", {}, el("p", { class: "subtle" }, caption), el("div", { class: "table-wrap" }, el("table", { class: "grid data-table" }, head, body)));
  }

  function schemaTable(title, cols) {
    if (!cols || !cols.length) return null;
    return el("div", {}, el("h3", {}, title), el("table", { class: "grid kv" },
      el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Type"), el("th", {}, "Shape"))),
      el("tbody", {}, ...cols.map((c) => el("tr", {}, el("td", { class: "mono" }, c.name || "—"), el("td", { class: "mono" }, c.type), el("td", { class: "mono" }, c.shape))))));
  }

  function mlmodel(summary) {
    if (summary.error) return el("p", { class: "alert error" }, summary.error);
    const flavors = (summary.flavors || []).map((f) => el("li", {}, el("strong", { class: "mono" }, f.name), f.details ? ` — ${f.details}` : ""));
    return el("div", { class: "mlmodel" },
      el("h3", {}, "Model flavors"), el("ul", {}, ...flavors),
      summary.run_id ? el("p", { class: "subtle" }, `Logged by run ${summary.run_id}${summary.created ? ` at ${summary.created}` : ""}`) : null,
      schemaTable("Inputs", summary.inputs), schemaTable("Outputs", summary.outputs));
  }

  listing("").then((data) => {
    if (!data.entries.length) {
      tree.replaceChildren(el("p", { class: "subtle" }, "No artifacts logged."));
      pane.replaceChildren(el("p", { class: "subtle" }, "This run has no artifacts. Log files with mlflow.log_artifact(path)."));
      document.getElementById("download-all")?.setAttribute("hidden", "");
      return;
    }
    tree.replaceChildren(el("ul", {}, ...data.entries.map(entryNode)));
  }).catch((error) => {
    tree.replaceChildren(el("p", { class: "subtle" }, error.message));
    pane.replaceChildren();
    document.getElementById("download-all")?.setAttribute("hidden", "");
  });
}
