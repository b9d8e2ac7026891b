"""The differential harness: one scenario, run under the real ``mlflow`` and under
``import mltrail as mlflow``, gives two normalized observations that must be equal.

A scenario is a function ``fn(ctx, arg) -> observation`` registered with ``@case``. It uses
only what both libraries have (``ctx.ml`` is the module, ``ctx.client`` an ``MlflowClient``,
``ctx.entities`` the entities module) and returns plain data: ``ctx.call`` turns a call into
its outcome (a normalized return value, or the error's class family and error code), and
``ctx.run_view``, ``ctx.history`` and ``ctx.artifacts`` read back what was stored.

Ids differ between the two runs, so observations are normalized: run and experiment ids
become ``<run0>``, ``<exp>``..., times are dropped unless a scenario asks for them.

Other engineers add cases by writing a ``diff_cases_<area>.py`` module with ``@case``
functions (see ``diff_cases_fluent.py``); ``test_differential.py`` collects every module
whose name starts with ``diff_cases_``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import EllipsisType
from typing import Any

# The built-in exception types user code catches; an mltrail error must be an instance of
# every one the MLflow error is an instance of (it may be of more: e.g. also MlflowException).
BUILTIN_ERRORS: tuple[type[BaseException], ...] = (
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    OSError,
    OverflowError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RuntimeError,
)

_HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
# Tags whose values depend on the process, not on the library.
VOLATILE_TAG_VALUES = {"mlflow.source.name", "mlflow.user"}
# Git tags depend on where the test runs from (mlflow looks at the script, pytest's, which is
# outside any repository): left out of observations.
DROPPED_TAGS = {"mlflow.source.git.commit", "mlflow.source.git.branch", "mlflow.source.git.repoURL"}
# Names both libraries generate ("adjective-animal-123") differ by chance: compared by shape.
_GENERATED_NAME = re.compile(r"^[a-z]+-[a-z]+-\d{1,3}$")


@dataclass
class Case:
    id: str
    fn: Callable[[Ctx, Any], Any]
    arg: Any
    server: bool = True  # also run with the real mlflow client against a mltrail server
    in_process: bool = True  # run with mlflow and mltrail in this process
    deliberate: str | None = None  # anchor of the documented difference in compatibility.md
    server_deliberate: str | None = None  # the same, for the run through the server


CASES: dict[str, Case] = {}


def _label(arg: Any) -> str:
    if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[0], str):
        return arg[0]  # ("label", value) pairs name themselves
    if isinstance(arg, str) and re.fullmatch(r"[\w.\-]+", arg):
        return arg
    text = repr(arg)
    return re.sub(r"[^\w.+\-=]", "_", text)[:40]


def case(
    name: str,
    args: list[Any] | None = None,
    *,
    server: bool = True,
    in_process: bool = True,
    deliberate: dict[str, str] | str | None = None,
    server_deliberate: dict[str, str] | str | None | EllipsisType = ...,
    server_skip: frozenset[str] = frozenset(),
) -> Callable[[Callable[[Ctx, Any], Any]], Callable[[Ctx, Any], Any]]:
    """Register ``fn`` once per arg (``("label", value)`` pairs name their case).

    ``deliberate``: a compatibility.md anchor for the whole case, or ``{label: anchor}`` for
    some of its args: those cases must differ from MLflow, and the page must explain why.
    ``server_deliberate``: the same for the run through the server (by default, as
    ``deliberate``; many differences live in the client, and vanish with MLflow's client).
    ``server_skip``: labels not run through the server (where MLflow's own HTTP client differs
    from its local one, so the local run is no expectation for a server)."""
    on_server = deliberate if server_deliberate is ... else server_deliberate

    def anchor_of(spec: dict[str, str] | str | None, label: str) -> str | None:
        return spec.get(label) if isinstance(spec, dict) else spec

    def register(fn: Callable[[Ctx, Any], Any]) -> Callable[[Ctx, Any], Any]:
        for arg in args if args is not None else [None]:
            label = _label(arg)
            case_id = name if args is None else f"{name}[{label}]"
            if case_id in CASES:
                raise ValueError(f"two differential cases are named {case_id}")
            value = (
                arg[1]
                if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[0], str)
                else arg
            )
            CASES[case_id] = Case(
                case_id,
                fn,
                value,
                server and label not in server_skip,
                in_process,
                anchor_of(deliberate, label),
                anchor_of(on_server, label),  # type: ignore[arg-type]
            )
        return fn

    return register


@dataclass
class Impl:
    """One way of running scenarios: a module (``mlflow`` or ``mltrail``) and a tracking URI."""

    name: str
    module: Any
    tracking_uri: str
    local_artifacts: bool  # experiments get an artifact location in the scenario's folder

    @property
    def is_mlflow(self) -> bool:
        return self.module.__name__ == "mlflow"

    def exception_base(self) -> type[BaseException]:
        return self.module.exceptions.MlflowException  # type: ignore[no-any-return]


@dataclass
class Err:
    """A call that raised: the class families it belongs to and its MLflow error code."""

    mlflow_exception: bool
    code: str | None
    builtins: frozenset[str]
    type_name: str = field(compare=False)
    message: str = field(compare=False)

    def as_tuple(self) -> tuple[Any, ...]:
        return ("raised", self.mlflow_exception, self.code, sorted(self.builtins))


class Ctx:
    """What a scenario sees: the library, a client, a fresh experiment, a scratch folder."""

    def __init__(self, impl: Impl, folder: Path, exp_name: str) -> None:
        self.impl = impl
        self.ml = impl.module
        self.tmp = folder
        self.entities = impl.module.entities
        self.client = impl.module.MlflowClient(impl.tracking_uri)
        self._ids: dict[str, str] = {}
        self._env_saved: dict[str, str | None] = {}
        location = (folder / "artifacts").as_uri() if impl.local_artifacts else None
        self.exp_id = self.client.create_experiment(exp_name, artifact_location=location)
        self.name_id(self.exp_id, "<exp>")
        self.ml.set_experiment(experiment_id=self.exp_id)

    # -- naming ------------------------------------------------------------------------------
    def name_id(self, value: str, placeholder: str | None = None) -> str:
        """Remember an id so observations show a placeholder for it."""
        if value not in self._ids:
            self._ids[value] = placeholder or f"<id{len(self._ids)}>"
        return self._ids[value]

    def norm(self, value: Any) -> Any:
        """Plain, comparable data: entities to dicts, ids to placeholders, NaN to "nan"."""
        if isinstance(value, Err):
            return value.as_tuple()
        if isinstance(value, bool) or value is None or isinstance(value, int):
            return value
        if isinstance(value, float):
            if math.isnan(value):
                return "nan"
            return value
        if isinstance(value, str):
            if value in self._ids:
                return self._ids[value]
            return _HEX32.sub(lambda m: self.name_id(m.group(0)), value)
        if isinstance(value, dict):
            return {self.norm(k): self.norm(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.norm(v) for v in value]
        if hasattr(value, "item") and hasattr(value, "dtype"):  # numpy scalars
            return self.norm(value.item())
        return self.norm(entity_dict(value))

    # -- calling -----------------------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The outcome of ``fn(*args, **kwargs)``: its normalized result, or an ``Err``."""
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the error is the observation
            return self.error(exc).as_tuple()
        return ("ok", self.norm(result))

    def error(self, exc: BaseException) -> Err:
        code = getattr(exc, "error_code", None)
        return Err(
            mlflow_exception=isinstance(exc, self.impl.exception_base()),
            code=str(code) if code is not None else None,
            builtins=frozenset(t.__name__ for t in BUILTIN_ERRORS if isinstance(exc, t)),
            type_name=type(exc).__name__,
            message=str(exc)[:300],
        )

    @contextlib.contextmanager
    def env(self, **values: str | None) -> Iterator[None]:
        saved = {k: os.environ.get(k) for k in values}
        try:
            for key, value in values.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # -- reading back ------------------------------------------------------------------------
    def new_run(self, **kwargs: Any) -> str:
        """A run made by the client (not active), its id named."""
        run = self.client.create_run(self.exp_id, **kwargs)
        self.name_id(run.info.run_id)
        return str(run.info.run_id)

    def run_view(self, run_id: str, times: bool = False) -> Any:
        """A run as stored: info (no times unless asked), params, latest metrics, tags."""
        try:
            run = self.client.get_run(run_id)
        except Exception as exc:  # noqa: BLE001
            return self.error(exc).as_tuple()
        info = run.info
        tags = {
            k: ("<volatile>" if k in VOLATILE_TAG_VALUES else _generated(v))
            for k, v in run.data.tags.items()
            if k not in DROPPED_TAGS
        }
        view = {
            "run_id": info.run_id,
            "experiment_id": info.experiment_id,
            "run_name": _generated(info.run_name),
            "status": info.status,
            "lifecycle_stage": info.lifecycle_stage,
            "has_end_time": info.end_time is not None,
            "params": dict(run.data.params),
            "metrics": dict(run.data.metrics),
            "tags": tags,
        }
        if times:
            view["start_time"] = info.start_time
            view["end_time"] = info.end_time
        return self.norm(view)

    def history(self, run_id: str, key: str, times: bool = False) -> Any:
        try:
            points = self.client.get_metric_history(run_id, key)
        except Exception as exc:  # noqa: BLE001
            return self.error(exc).as_tuple()
        rows = [(m.step, m.value, m.timestamp) if times else (m.step, m.value) for m in points]
        return self.norm(sorted(rows, key=lambda r: (r[0], r[-1] if times else 0)))

    def artifacts(self, run_id: str, path: str | None = None, depth: int = 4) -> Any:
        """Every artifact under ``path`` as (path, is_dir, size) rows, folders walked."""
        found: list[tuple[str, bool, int | None]] = []

        def walk(at: str | None, level: int) -> None:
            for info in self.client.list_artifacts(run_id, at):
                found.append((info.path, info.is_dir, None if info.is_dir else info.file_size))
                if info.is_dir and level < depth:
                    walk(info.path, level + 1)

        try:
            walk(path, 0)
        except Exception as exc:  # noqa: BLE001
            return self.error(exc).as_tuple()
        return sorted(found)

    def close(self) -> None:
        while self.ml.active_run() is not None:
            with contextlib.suppress(Exception):
                self.ml.end_run()
            if self.ml.active_run() is not None and not self.impl.is_mlflow:
                self.ml.tracking.fluent._pop_run()
        with contextlib.suppress(Exception):
            flush = getattr(self.ml, "flush_async_logging", None)
            if flush:
                flush()


def _generated(name: Any) -> Any:
    return "<generated name>" if isinstance(name, str) and _GENERATED_NAME.match(name) else name


def entity_dict(value: Any) -> Any:
    """An entity as a dict of its public fields (mlflow's and mltrail's spell them alike)."""
    if hasattr(value, "to_dictionary") and not isinstance(value, type):
        with contextlib.suppress(Exception):
            return value.to_dictionary()
    names = getattr(type(value), "__dataclass_fields__", None)
    if names:
        return {n: getattr(value, n) for n in names}
    props = [
        n
        for n in dir(type(value))
        if not n.startswith("_") and isinstance(getattr(type(value), n, None), property)
    ]
    if props:
        return {n: getattr(value, n) for n in props}
    return repr(value)


def run_case(impl: Impl, c: Case, root: Path, counter: list[int]) -> Any:
    counter[0] += 1
    folder = Path(tempfile.mkdtemp(prefix=f"{impl.name}-", dir=root))
    ctx = Ctx(impl, folder, f"diff-{counter[0]}-{c.id[:80]}")
    try:
        return ctx.norm(c.fn(ctx, c.arg))
    finally:
        ctx.close()


def differences(expected: Any, got: Any, path: str = "") -> list[str]:
    """Where ``got`` (mltrail) departs from ``expected`` (mlflow). An error observation matches
    when the codes agree (if MLflow gives one) and mltrail's error is an instance of every
    built-in type MLflow's is (being an MlflowException too is allowed)."""
    if _is_err(expected) and _is_err(got):
        _, exp_mlflow, exp_code, exp_builtins = expected
        _, got_mlflow, got_code, got_builtins = got
        problems = []
        if exp_mlflow and not got_mlflow:
            problems.append(f"{path}: not an MlflowException")
        if exp_mlflow and exp_code != got_code:
            problems.append(f"{path}: error code {got_code!r}, MLflow gives {exp_code!r}")
        missing = set(exp_builtins) - set(got_builtins)
        if missing:
            problems.append(f"{path}: not an instance of {sorted(missing)}")
        return problems
    if isinstance(expected, dict) and isinstance(got, dict):
        problems = []
        for key in sorted(set(expected) | set(got), key=str):
            if key not in got:
                problems.append(f"{path}.{key}: missing (MLflow: {expected[key]!r})")
            elif key not in expected:
                problems.append(f"{path}.{key}: extra {got[key]!r}")
            else:
                problems.extend(differences(expected[key], got[key], f"{path}.{key}"))
        return problems
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        problems = []
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            problems.extend(differences(a, b, f"{path}[{i}]"))
        return problems
    if expected != got:
        return [f"{path or 'observation'}: mltrail {got!r}, MLflow {expected!r}"]
    return []


def _is_err(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 4 and value[0] == "raised"
