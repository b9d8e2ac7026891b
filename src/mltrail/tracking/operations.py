"""What a write with ``synchronous=False`` returns: MLflow's ``RunOperations``."""

from __future__ import annotations

from collections.abc import Callable


class RunOperations:
    """Writes handed to the background writer; ``wait()`` returns once they are stored (and
    raises what storing them raised)."""

    def __init__(self, wait: Callable[[], None] | None = None) -> None:
        self._wait = wait

    def wait(self) -> None:
        if self._wait is not None:
            self._wait()

    def __repr__(self) -> str:
        return "RunOperations()"
