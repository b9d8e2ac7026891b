"""Jinja2 rendering for UI pages: one environment with autoescape always on, a few
formatting filters, and the headers every HTML page carries."""

from __future__ import annotations

import functools
import hashlib
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from mltrail.version import __version__

UI_DIR = Path(__file__).parent
STATIC_DIR = UI_DIR / "static"

# Pages run only our own scripts; plotly injects a <style> element, hence 'unsafe-inline'
# for styles. Artifacts are framed from our origin but carry their own sandbox CSP.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def format_time(ms: int | None) -> str:
    """UTC wall time of a millisecond timestamp; the browser rewrites it in local time."""
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start: int | None, end: int | None, running: bool = False) -> str:
    if start is None:
        return "—"
    if end is None:
        if not running:
            return "—"
        end = int(time.time() * 1000)
    seconds = max(0, (end - start) / 1000)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m"
    return f"{hours // 24}d {hours % 24}h"


def format_value(value: Any) -> str:
    """Metric values compactly: 4 significant digits, never a wall of decimals."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


@functools.cache
def _asset_version(name: str) -> str:
    path = STATIC_DIR / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    except OSError:
        return __version__


def static_url(name: str) -> str:
    """URL of a static file, with a content hash so browsers may cache it for good."""
    if name == "plotly.min.js":
        return f"/ui/static/plotly.min.js?v={__version__}"
    return f"/ui/static/{name}?v={_asset_version(name)}"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(UI_DIR / "templates")),
        autoescape=True,  # every page, every variable: user content is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.filters["value"] = format_value
    env.globals["duration"] = format_duration
    env.globals["static_url"] = static_url
    env.globals["version"] = __version__
    return env


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    page = environment().get_template(template)
    # ``root``: the server's --static-prefix ("" without one); every link starts with it.
    root = request.scope.get("root_path", "")
    # With --auth: who is signed in (the top bar links administrators to the admin pages).
    user = request.scope.get("mltrail.user")
    html = page.render(request_path=request.url.path, root=root, current_user=user, **context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
