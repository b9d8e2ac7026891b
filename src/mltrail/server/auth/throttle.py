"""Slowing down password guessing: after too many failed sign-ins from one address or for one
user name within a window, further attempts are refused with 429 and ``Retry-After`` until
the window has passed. Kept per worker, in memory (a guesser spread over N workers gets N
times the budget, still far below what guessing needs)."""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_FAILURES = 20  # for one user name
# One client address ("ip:..." keys) gets five times as many: an office shares one address.
WINDOW_SECONDS = 300.0


class SignInThrottle:
    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> int:
        """Seconds until these keys may try again (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                limit = self.max_failures * (5 if key.startswith("ip:") else 1)
                if len(times) >= limit:
                    wait = max(wait, times[0] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
