"""Telling the user what environment building is doing, and keeping a log of it.

Each step prints one line to stderr when it starts and its time when it ends; the installers'
own output goes to the build log (and its last lines into the error if a step fails).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from mltrail.environments.errors import EnvironmentBuildError


class BuildLog:
    """A build's log file plus the progress lines shown to the user."""

    def __init__(self, path: str, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.path = path
        self.quiet = quiet or bool(os.environ.get("MLTRAIL_QUIET"))
        self._stream = stream
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def say(self, text: str) -> None:
        self._fh.write(f"# {text}\n")
        self._fh.flush()
        if not self.quiet:
            out = self._stream or sys.stderr
            out.write(f"mltrail: {text}\n")
            out.flush()

    def run(
        self,
        step: str,
        argv: Sequence[str],
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        failure: str | None = None,
    ) -> str:
        """Run one installer command as a named step; its output goes to the log."""
        self.say(f"{step} ...")
        self._fh.write("$ " + " ".join(argv) + "\n")
        self._fh.flush()
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise EnvironmentBuildError(
                f"{failure or step} failed: cannot start {argv[0]} ({exc.strerror}).",
                log_path=self.path,
            ) from None
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            self._fh.write(line)
            self._fh.flush()
            self._echo(line)
        code = proc.wait()
        output = "".join(lines)
        self._fh.write(f"# exit code {code}\n")
        self._fh.flush()
        if code != 0:
            raise EnvironmentBuildError(
                f"{failure or step} failed (exit code {code}).",
                output=output,
                log_path=self.path,
            )
        self.say(f"{step}: done in {time.monotonic() - started:.1f}s")
        return output

    def _echo(self, line: str) -> None:
        """Show the installer's progress lines ("Resolved 12 packages in 0.4s"), not the
        list of every package installed (that is in the log)."""
        text = line.rstrip()
        if self.quiet or not text.strip() or text.startswith((" + ", " - ", " ~ ")):
            return
        out = self._stream or sys.stderr
        out.write(f"mltrail:   | {text}\n")
        out.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> BuildLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
