"""How many times an HTTP request to a tracking server is retried by default, kept apart from
``rest_http`` so the CLI can choose it without importing ``requests``.

A training job waits out a server restart (5 retries, about 30 s); an interactive command,
where a person is waiting, gives up sooner. ``MLTRAIL_HTTP_REQUEST_MAX_RETRIES`` (read by
``rest_http``) overrides both.
"""

from __future__ import annotations

BATCH_RETRIES = 5
INTERACTIVE_RETRIES = 2

_default_retries = BATCH_RETRIES


def use_interactive_retries() -> None:
    """A person is waiting (the CLI): retry a few seconds, not half a minute."""
    global _default_retries
    _default_retries = INTERACTIVE_RETRIES


def default_retries() -> int:
    return _default_retries
