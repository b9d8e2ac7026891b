"""Markdown for run and experiment descriptions, rendered so that it can never carry markup.

markdown-it-py (installed with ``rich``) with raw HTML turned off: any ``<tag>`` the user
writes is escaped as text, and its link validator refuses ``javascript:``, ``vbscript:``,
``file:`` and non-image ``data:`` URLs.
"""

from __future__ import annotations

import functools

from markupsafe import Markup


@functools.cache
def _renderer():  # type: ignore[no-untyped-def]
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


def render_markdown(text: str) -> Markup:
    """Safe HTML for a markdown text (limited to 100,000 characters)."""
    if not text:
        return Markup("")
    html = _renderer().render(text[:100_000])
    # Links leave the app: never hand them our window or our referrer.
    html = html.replace("<a href=", '<a rel="noopener noreferrer nofollow" href=')
    return Markup(html)
