"""Small helpers shared by the SQL store's modules."""

from __future__ import annotations

import time

from mltrail.exceptions import InvalidParameter
from mltrail.store.base import SEARCH_MAX_RESULTS_THRESHOLD

RUN_NAME_TAG = "mlflow.runName"


def now_ms() -> int:
    return int(time.time() * 1000)


def first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_max_results(max_results: int) -> None:
    if not isinstance(max_results, int) or max_results <= 0:
        raise InvalidParameter(
            f"Invalid value {max_results!r} for parameter 'max_results' supplied. It must be "
            "a positive integer."
        )
    if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {SEARCH_MAX_RESULTS_THRESHOLD}."
        )
