"""Console capture (beyond MLflow): what the program writes to stdout and stderr while a run
is active is also saved as the run's ``console.log`` artifact, uploaded every few seconds while
the run runs (so it grows, and the run page can show it live) and once more at ``end_run``.

Turn it on with ``MLTRAIL_CAPTURE_CONSOLE=true`` or ``mltrail.companions.console.enable()``.
Output still reaches the terminal unchanged; writes made below Python (C extensions writing to
file descriptor 1) are not seen.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, TextIO

ARTIFACT_NAME = "console.log"
UPLOAD_INTERVAL_SECONDS = 5.0

_enabled: bool | None = None
_captures: dict[str, _Capture] = {}
_lock = threading.Lock()


def enable(value: bool = True) -> None:
    global _enabled
    _enabled = value


def disable() -> None:
    enable(False)


def enabled() -> bool:
    if _enabled is not None:
        return _enabled
    return os.environ.get("MLTRAIL_CAPTURE_CONSOLE", "").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )


class _Tee:
    """A text stream that writes through to the real one and appends to the capture file."""

    def __init__(self, inner: TextIO, sink: _Capture) -> None:
        self._inner = inner
        self._sink = sink

    def write(self, text: str) -> int:
        written = self._inner.write(text)
        self._sink.append(text)
        return written

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno...
        return getattr(self._inner, name)


class _Capture:
    def __init__(self, run_id: str, client: Any, interval: float | None = None) -> None:
        self.run_id = run_id
        self._client = client
        self._folder = tempfile.mkdtemp(prefix="mltrail-console-")
        self.path = Path(self._folder) / ARTIFACT_NAME
        self._file = open(self.path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._write_lock = threading.Lock()
        self._dirty = False
        self._stop = threading.Event()
        self._interval = interval if interval is not None else UPLOAD_INTERVAL_SECONDS
        self._thread = threading.Thread(
            target=self._upload_loop, name="mltrail-console", daemon=True
        )
        self._saved: tuple[TextIO, TextIO] = (sys.stdout, sys.stderr)

    def start(self) -> None:
        sys.stdout = _Tee(sys.stdout, self)
        sys.stderr = _Tee(sys.stderr, self)
        self._thread.start()

    def append(self, text: str) -> None:
        with self._write_lock:
            if not self._file.closed:
                self._file.write(text)
                self._dirty = True

    def _upload(self) -> None:
        with self._write_lock:
            if not self._dirty:
                return
            self._file.flush()
            self._dirty = False
        self._client.log_artifact(self.run_id, str(self.path))

    def _upload_loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._upload()
            except Exception:  # noqa: BLE001 - retried at the next tick and at the end
                self._dirty = True

    def stop(self) -> None:
        # Put back what we replaced (unless someone replaced our tee meanwhile: leave theirs).
        if isinstance(sys.stdout, _Tee) and sys.stdout._sink is self:
            sys.stdout = self._saved[0]
        if isinstance(sys.stderr, _Tee) and sys.stderr._sink is self:
            sys.stderr = self._saved[1]
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        try:
            self._upload()
        finally:
            with self._write_lock:
                self._file.close()
            self.path.unlink(missing_ok=True)
            os.rmdir(self._folder)


def start_for_run(run_id: str, client: Any) -> None:
    with _lock:
        if run_id in _captures:
            return
        capture = _Capture(run_id, client)
        _captures[run_id] = capture
    capture.start()


def stop_for_run(run_id: str) -> None:
    with _lock:
        capture = _captures.pop(run_id, None)
    if capture is not None:
        capture.stop()
