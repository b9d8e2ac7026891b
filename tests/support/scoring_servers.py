"""A real ``mltrail models serve`` process for tests (tests/models, benchmarks)."""

from __future__ import annotations


class ScoringServer:
    """A real ``mltrail models serve`` process on a free port (stopped by its pid)."""

    def __init__(self, model_uri: str, *extra: str, cwd: str | None = None) -> None:
        import subprocess
        import sys

        from live_servers import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            sys.executable,
            "-m",
            "mltrail",
            "models",
            "serve",
            "-m",
            model_uri,
            "-p",
            str(self.port),
            *extra,
        ]
        self.proc = subprocess.Popen(
            args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def wait(self, timeout: float = 180.0) -> ScoringServer:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scoring server exited: {self.proc.stdout.read()}")
            try:
                if httpx.get(self.url + "/ping", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("scoring server did not answer /ping")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
