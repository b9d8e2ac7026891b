// The run's console: the end of its console.log artifact (written by console capture, see
// docs/autolog.md), shown under the artifacts and refreshed while the run is RUNNING. Only the
// last TAIL_BYTES are fetched (an HTTP range), however long the log grows.
import { url as link } from "./common.js";

const TAIL_BYTES = 64 * 1024;
const LIVE_MS = 5000;

const data = JSON.parse(document.getElementById("run-data").textContent);
const section = document.getElementById("console");
const code = section.querySelector("#console-log code");
const note = document.getElementById("console-note");
const pre = document.getElementById("console-log");
const url = link(`/ui/artifacts/${encodeURIComponent(data.run_id)}/raw?path=console.log`);

function running() {
  const badge = document.querySelector("#run-status .status");
  return badge ? badge.classList.contains("status-running") : data.status === "RUNNING";
}

async function refresh() {
  let response;
  try {
    response = await fetch(url, { cache: "no-store", headers: { Range: `bytes=-${TAIL_BYTES}` } });
  } catch {
    return;
  }
  if (!response.ok) return;  // no console captured (yet)
  let text = await response.text();
  const partial = response.status === 206 && text.length >= TAIL_BYTES;
  if (partial) text = text.slice(text.indexOf("\n") + 1);  // drop the cut first line
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  code.textContent = text;
  note.textContent = partial ? "the end of the log" : "";
  section.hidden = false;
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

async function loop() {
  const live = running();
  await refresh();
  if (live) setTimeout(loop, LIVE_MS);  // one more refresh after the run ends, then stop
}
loop();
