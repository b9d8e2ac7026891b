// Runs in <head>, before the first paint, so a page never flashes the wrong theme.
(function () {
  var saved = null;
  try { saved = window.localStorage.getItem("mltrail-theme"); } catch (e) { /* private mode */ }
  document.documentElement.dataset.theme = saved === "light" || saved === "dark" ? saved : "auto";
})();
