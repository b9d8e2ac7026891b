"""``SubmittedRun``: a project run in progress, with MLflow's ``wait()``, ``get_status()``
and ``cancel()``.

The local kind owns the command's process. Its output is copied, line by line as it comes, to
this process's stdout/stderr and to a log file; when the process ends, the log (and the
environment's build log) become artifacts of the run and the run's status is set from the exit
code: FINISHED for 0, FAILED otherwise, KILLED when cancelled or interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from mltrail.projects.run_client import ProjectClient

OUTPUT_ARTIFACT_DIR = "mltrail-project"


class SubmittedRun:
    """What ``mltrail.projects.run`` returns."""

    @property
    def run_id(self) -> str:
        raise NotImplementedError

    def wait(self) -> bool:
        """Block until the run ends; True when it succeeded."""
        raise NotImplementedError

    def get_status(self) -> str:
        """``RUNNING``, ``FINISHED``, ``FAILED`` or ``KILLED``."""
        raise NotImplementedError

    def cancel(self) -> None:
        raise NotImplementedError


class LocalSubmittedRun(SubmittedRun):
    def __init__(
        self,
        run_id: str,
        command_proc: subprocess.Popen[bytes],
        client: ProjectClient,
        log_path: str,
        extra_logs: dict[str, str],
        on_end: Callable[[], None],
    ) -> None:
        self._run_id = run_id
        self.command_proc = command_proc
        self._client = client
        self._log_path = log_path
        self._extra_logs = extra_logs
        self._on_end = on_end
        self._status = "RUNNING"
        self._cancelled = False
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed when the process ends
        self._pumps = [
            threading.Thread(target=self._pump, args=(command_proc.stdout, _out(sys.stdout)),
                             daemon=True),
            threading.Thread(target=self._pump, args=(command_proc.stderr, _out(sys.stderr)),
                             daemon=True),
        ]
        self._waiter = threading.Thread(target=self._watch, daemon=True)
        try:
            for pump in self._pumps:
                pump.start()
            self._waiter.start()
        except BaseException:
            # A Ctrl-C (or SIGTERM) while the threads start: the caller stops the command and
            # ends the run KILLED; a watcher already running must record the same.
            self._cancelled = True
            raise

    @property
    def run_id(self) -> str:
        return self._run_id

    def _pump(self, source: IO[bytes] | None, sink: IO[bytes] | None) -> None:
        if source is None:
            return
        for line in iter(source.readline, b""):
            with self._lock:
                self._log.write(line)
                self._log.flush()
            if sink is not None:
                try:
                    sink.write(line)
                    sink.flush()
                except (OSError, ValueError):
                    pass  # our own stdout went away; the log still has everything
        source.close()

    def _watch(self) -> None:
        code = self.command_proc.wait()
        for pump in self._pumps:
            pump.join()
        self._log.close()
        status = "KILLED" if self._cancelled else "FINISHED" if code == 0 else "FAILED"
        try:
            self._record(status)
        finally:
            self._status = status
            try:
                self._on_end()
            finally:
                self._finished.set()  # wait() and cancel() must return whatever happened

    def _record(self, status: str) -> None:
        try:
            self._client.log_artifact(self._run_id, self._log_path, OUTPUT_ARTIFACT_DIR)
            for name, path in self._extra_logs.items():
                if os.path.exists(path):
                    _log_as(self._client, self._run_id, path, name)
        except Exception as exc:  # noqa: BLE001 - the status must still be recorded
            sys.stderr.write(f"mltrail: could not keep the run's output as an artifact: {exc}\n")
        for attempt in range(4):
            try:
                self._client.set_terminated(self._run_id, status)
                return
            except Exception as exc:  # noqa: BLE001 - a busy store: try again, then say so
                if attempt == 3:
                    sys.stderr.write(
                        f"mltrail: could not record run {self._run_id} as {status}: {exc}\n"
                    )
                    return
                time.sleep(0.5 * (attempt + 1))

    def wait(self) -> bool:
        try:
            while not self._finished.wait(0.2):
                pass
        except KeyboardInterrupt:
            self.cancel()
            raise
        return self._status == "FINISHED"

    def get_status(self) -> str:
        return self._status

    @property
    def exit_code(self) -> int | None:
        return self.command_proc.returncode

    def cancel(self) -> None:
        """Stop the command (SIGTERM to its process group, SIGKILL after 10 s); the run
        ends KILLED."""
        if self._finished.is_set():
            return
        self._cancelled = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.command_proc.pid, signal.SIGTERM)
        try:
            self.command_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.command_proc.pid, signal.SIGKILL)
        self._finished.wait()  # the status is recorded before cancel() returns


class FinishedRun(SubmittedRun):
    """A run that ended before there was a process to watch (a failed environment build)."""

    def __init__(self, run_id: str, status: str) -> None:
        self._run_id = run_id
        self._status = status

    @property
    def run_id(self) -> str:
        return self._run_id

    def wait(self) -> bool:
        return self._status == "FINISHED"

    def get_status(self) -> str:
        return self._status

    def cancel(self) -> None:
        return None


def _out(stream: Any) -> IO[bytes] | None:
    return getattr(stream, "buffer", None)


def _log_as(client: ProjectClient, run_id: str, path: str, name: str) -> None:
    """Keep ``path`` as ``mltrail-project/<name>`` (its own file name may be a hash)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, name)
        shutil.copyfile(path, target)
        client.log_artifact(run_id, target, OUTPUT_ARTIFACT_DIR)
