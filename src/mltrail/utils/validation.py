"""Checks on user input, with MLflow's limits, each failing with one clear sentence."""

from __future__ import annotations

import math
import operator
import posixpath
import re
from collections.abc import Sequence
from typing import TypeVar

from mltrail.entities import Metric
from mltrail.exceptions import InvalidParameter, InvalidParameterType, ValueOutOfRange

MAX_ENTITY_KEY_LENGTH = 250
# MLflow truncates params past 6000 characters and tags past 8000; mltrail stores values whole
# up to this limit and refuses longer ones (docs/compatibility.md#long-values). 100 params and
# 100 tags at the limit make about 3.3 MB of JSON: a full log-batch stays far below the
# server's 32 MiB request limit.
MAX_PARAM_VAL_LENGTH = 16384
MAX_TAG_VAL_LENGTH = 16384
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_ARTIFACT_LOCATION_LENGTH = 2048
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000

_KEY_CHARS = re.compile(r"^[\w/.\- :]*$")
_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID = re.compile(r"^[0-9]{1,19}$")

_P = TypeVar("_P")
_T = TypeVar("_T")

# Keys that passed once are remembered: a training loop logs the same few keys a million times.
VALID_KEYS: set[str] = set()


def validate_key(key: object, what: str = "key") -> str:
    """A metric, param or tag key: ``[\\w/.- :]``, at most 250 characters, path-normal."""
    if key in VALID_KEYS:
        return str(key)
    if key is not None and not isinstance(key, str):
        raise InvalidParameterType(
            f"The {what} must be a string, got {type(key).__name__} {key!r}."
        )
    if not isinstance(key, str) or not key:
        raise InvalidParameter(f"The {what} must be a non-empty string, got {key!r}.")
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        raise InvalidParameter(
            f"The {what} '{key[:40]}...' exceeds the maximum length of "
            f"{MAX_ENTITY_KEY_LENGTH} characters."
        )
    if not _KEY_CHARS.match(key):
        raise InvalidParameter(
            f"Invalid {what} {key!r}: names may only contain alphanumerics, underscores (_), "
            "dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)."
        )
    if posixpath.normpath(key) != key or key.startswith("/") or ".." in key.split("/"):
        raise InvalidParameter(
            f"Invalid {what} {key!r}: it would resolve to '{posixpath.normpath(key)}' when "
            "treated as a path; remove leading slashes, '..', '.' and '//'."
        )
    if len(VALID_KEYS) < 100_000:
        VALID_KEYS.add(key)
    return key


def validate_metric_value(key: str, value: object) -> float:
    """A metric value as a float, from anything MLflow takes: numbers (NaN and infinities are
    kept), bools (1.0 and 0.0), NumPy scalars and one-element arrays, numeric strings."""
    if value is None:
        raise InvalidParameter(f"Missing value for metric '{key}': give a number.")
    if getattr(value, "ndim", 0) and getattr(value, "size", 0) == 1:
        value = value.item()  # type: ignore[attr-defined]  # a one-element NumPy array
    try:
        return float(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidParameterType(
            f"Got invalid value {value!r} for metric '{key}': please specify the value as a "
            "valid double (64-bit floating point)."
        ) from None
    except (ValueError, OverflowError):
        raise InvalidParameter(
            f"Got invalid value {value!r} for metric '{key}': please specify the value as a "
            "valid double (64-bit floating point)."
        ) from None


def validate_timestamp(value: object) -> int:
    number = _as_int(value)
    if number is None or number < 0:
        raise InvalidParameter(
            f"Invalid timestamp {value!r}: it must be a nonnegative long (64-bit integer) "
            "of milliseconds."
        )
    if number > INT64_MAX:
        raise ValueOutOfRange(f"Invalid timestamp {value!r}: it must fit in 64 bits.")
    return number


def validate_step(value: object) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidParameter(
            f"Invalid step {value!r}: it must be an integer.", error_code="BAD_REQUEST"
        )
    number = _as_int(value)
    if number is None:
        raise InvalidParameter(f"Invalid step {value!r}: it must be an integer.")
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueOutOfRange(
            f"Invalid step {value!r}: a step must be a 64-bit integer, between -2**63 and "
            "2**63 - 1."
        )
    return number


def _as_int(value: object) -> int | None:
    """A plain int from an int, a bool, another integer type (NumPy's, say) or a float with no
    fractional part; None for the rest (a fraction would be silently cut)."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return int(value)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        pass
    if isinstance(value, float) or (hasattr(value, "is_integer") and hasattr(value, "dtype")):
        number = float(value)  # type: ignore[arg-type]
        if math.isfinite(number) and number.is_integer():
            return int(number)
    return None


def _refuse_nul(what: str, key: str, text: str) -> None:
    if "\x00" in text:
        raise InvalidParameter(
            f"The value of {what} '{key}' contains a NUL character, which databases such as "
            "PostgreSQL cannot store; remove it."
        )


def param_value_str(key: str, value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    _refuse_nul("param", key, text)
    if len(text) > MAX_PARAM_VAL_LENGTH:
        raise InvalidParameter(
            f"The value of param '{key}' is {len(text)} characters long; the maximum is "
            f"{MAX_PARAM_VAL_LENGTH}."
        )
    return text


def tag_value_str(key: str, value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    _refuse_nul("tag", key, text)
    if len(text) > MAX_TAG_VAL_LENGTH:
        raise InvalidParameter(
            f"The value of tag '{key}' is {len(text)} characters long; the maximum is "
            f"{MAX_TAG_VAL_LENGTH}."
        )
    return text


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter(f"An experiment name must be a non-empty string, got {name!r}.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameter(
            f"The experiment name exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} "
            "characters."
        )
    return name


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidParameter(f"Invalid run id {run_id!r}.")
    return run_id


def validate_experiment_id(experiment_id: object) -> str:
    text = str(experiment_id) if isinstance(experiment_id, int) else experiment_id
    # ids are int64 in the database: a larger number would overflow the driver, not just miss
    if not isinstance(text, str) or not _EXPERIMENT_ID.match(text) or int(text) >= 2**63:
        raise InvalidParameter(
            f"Invalid experiment id {experiment_id!r}: experiment ids are integers."
        )
    return text


def validate_batch_size(n_metrics: int, n_params: int, n_tags: int) -> None:
    for count, limit, what in (
        (n_metrics, MAX_BATCH_METRICS, "metrics"),
        (n_params, MAX_BATCH_PARAMS, "params"),
        (n_tags, MAX_BATCH_TAGS, "tags"),
        (n_metrics + n_params + n_tags, MAX_BATCH_TOTAL, "metrics, params, and tags"),
    ):
        if count > limit:
            raise InvalidParameter(
                f"A batch logging request can contain at most {limit} {what}. Got {count} "
                f"{what}. Please split up {what} across multiple requests and try again."
            )


def split_batch(
    metrics: Sequence[Metric], params: Sequence[_P], tags: Sequence[_T]
) -> list[tuple[list[Metric], list[_P], list[_T]]]:
    """A batch cut into requests within the limits: params and tags first, 100 of each a
    request, topped up with metrics to 1000 items; then the remaining metrics, 1000 a request."""
    parts: list[tuple[list[Metric], list[_P], list[_T]]] = []
    metrics, params, tags = list(metrics), list(params), list(tags)
    while params or tags:
        p_part, params = params[:MAX_BATCH_PARAMS], params[MAX_BATCH_PARAMS:]
        t_part, tags = tags[:MAX_BATCH_TAGS], tags[MAX_BATCH_TAGS:]
        room = min(MAX_BATCH_TOTAL - len(p_part) - len(t_part), MAX_BATCH_METRICS)
        m_part, metrics = metrics[:room], metrics[room:]
        parts.append((m_part, p_part, t_part))
    while metrics:
        m_part, metrics = metrics[:MAX_BATCH_METRICS], metrics[MAX_BATCH_METRICS:]
        parts.append((m_part, [], []))
    if not parts:
        parts.append(([], [], []))
    return parts


def validate_unique_param_keys(keys: Sequence[str]) -> None:
    seen: set[str] = set()
    dupes = sorted({k for k in keys if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
    if dupes:
        raise InvalidParameter(
            f"Duplicate parameter keys have been submitted: {dupes}. Please ensure the request "
            "contains only one param value per param key."
        )


def is_nan(value: float) -> bool:
    return value != value or (isinstance(value, float) and math.isnan(value))


def checked_metric(m: Metric) -> Metric:
    """The metric if it is valid (converting numeric types to float), else InvalidParameter."""
    if type(m.value) is float and type(m.timestamp) is int and type(m.step) is int:
        # Already well-typed (the client's buffer checked it): only the key needs a look.
        validate_key(m.key, "metric key")
        if 0 <= m.timestamp <= INT64_MAX and INT64_MIN <= m.step <= INT64_MAX:
            return m
    validate_key(m.key, "metric key")
    value = validate_metric_value(m.key, m.value)
    timestamp = validate_timestamp(m.timestamp)
    step = validate_step(m.step if m.step is not None else 0)
    return Metric(m.key, value, timestamp, step)


def checked_metrics(metrics: Sequence[Metric]) -> list[Metric]:
    """``checked_metric`` over a batch, with the common case (well-typed, known key) inline."""
    known = VALID_KEYS
    return [
        m
        if type(m.value) is float
        and type(m.timestamp) is int
        and type(m.step) is int
        and 0 <= m.timestamp <= INT64_MAX
        and INT64_MIN <= m.step <= INT64_MAX
        and m.key in known
        else checked_metric(m)
        for m in metrics
    ]
