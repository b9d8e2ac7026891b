"""A Lightning logger that writes to mltrail, for explicit use in place of TensorBoard's:
``Trainer(logger=MltrailLogger(experiment_name="mnist", log_model=True))``.

It takes the arguments of Lightning's own ``MLFlowLogger`` (``experiment_name``, ``run_name``,
``tracking_uri``, ``tags``, ``log_model``, ``prefix``, ``artifact_location``, ``run_id``) and
writes through the client's buffer. ``log_model=True`` uploads the checkpoints the
``ModelCheckpoint`` callback kept when training ends; ``"all"`` uploads each one as it is saved.

Lightning has two packages with separate base classes: ``MltrailLogger`` (also importable as
``MLFlowLogger``) is for ``lightning.pytorch``; ``logger_class(pytorch_lightning)`` makes the
twin for the older package.
"""

from __future__ import annotations

import functools
import importlib
import os
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from mltrail.autologging import runs


class LoggerCore:
    """The package-independent part, mixed into Lightning's ``Logger`` base by ``logger_class``."""

    def __init__(
        self,
        experiment_name: str = "lightning_logs",
        run_name: str | None = None,
        tracking_uri: str | None = None,
        tags: dict[str, Any] | None = None,
        save_dir: str | None = None,
        log_model: bool | str = False,
        prefix: str = "",
        artifact_location: str | None = None,
        run_id: str | None = None,
        synchronous: bool | None = None,
    ) -> None:
        super().__init__()
        if log_model not in (True, False, "all"):
            from mltrail.exceptions import InvalidParameter

            raise InvalidParameter(f"log_model must be True, False or 'all', not {log_model!r}.")
        self._experiment_name = experiment_name
        self._run_name = run_name
        self._tracking_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        self.tags = dict(tags or {})
        self._save_dir = save_dir
        self._log_model = log_model
        self._prefix = prefix
        self._artifact_location = artifact_location
        self._run_id = run_id
        self._experiment_id: str | None = None
        self._synchronous = synchronous
        self._client: Any = None
        self._uploaded: dict[str, float] = {}
        self._checkpoint_callback: Any = None

    # -- the run, made on first use (rank 0 only: Lightning calls loggers there) ---------------
    @property
    def experiment(self) -> Any:
        """The ``TrailClient`` writing this logger's run (MLflow's logger returns its client)."""
        if self._client is None:
            from mltrail.tracking.client import TrailClient

            client = TrailClient(self._tracking_uri) if self._tracking_uri else runs.client()
            if self._run_id is not None:
                self._experiment_id = client.get_run(self._run_id).info.experiment_id
            else:
                found = client.get_experiment_by_name(self._experiment_name)
                self._experiment_id = (
                    found.experiment_id
                    if found is not None
                    else client.create_experiment(self._experiment_name, self._artifact_location)
                )
                tags = {str(k): str(v) for k, v in self.tags.items()}
                if self._run_name:
                    tags.setdefault("mlflow.runName", self._run_name)
                from mltrail.tracking import context

                tags = {**context.system_tags(), **tags}
                run = client.create_run(self._experiment_id, tags=tags, run_name=self._run_name)
                self._run_id = run.info.run_id
            self._client = client
        return self._client

    @property
    def run_id(self) -> str | None:
        self.experiment  # noqa: B018 - makes the run
        return self._run_id

    @property
    def experiment_id(self) -> str | None:
        self.experiment  # noqa: B018
        return self._experiment_id

    @property
    def name(self) -> str | None:
        return self.experiment_id

    @property
    def version(self) -> str | None:
        return self.run_id

    @property
    def save_dir(self) -> str | None:
        return self._save_dir

    # -- Lightning's logger interface ----------------------------------------------------------
    def log_hyperparams(self, params: dict[str, Any] | Namespace) -> None:
        if not _rank_zero():
            return
        values = vars(params) if isinstance(params, Namespace) else dict(params)
        flat = _flatten(values)
        client = self.experiment
        assert self._run_id is not None
        from mltrail.entities import Param

        client.log_batch(
            self._run_id, params=[Param(k, runs.param_text(v)) for k, v in flat.items()]
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        if not _rank_zero():
            return
        client = self.experiment
        assert self._run_id is not None
        for key, value in metrics.items():
            number = runs.to_float(value)
            if number is None:
                continue
            name = f"{self._prefix}-{key}" if self._prefix else key
            client.log_metric(
                self._run_id, name, number, step=step or 0, synchronous=self._synchronous
            )

    def finalize(self, status: str = "success") -> None:
        if not _rank_zero():
            return
        if self._client is None or self._run_id is None:
            return
        if self._log_model is True and self._checkpoint_callback is not None:
            self._upload_checkpoints(self._checkpoint_callback)
        final = {"success": "FINISHED", "failed": "FAILED", "finished": "FINISHED"}.get(
            status, "FINISHED"
        )
        self._client.set_terminated(self._run_id, final)

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        if not _rank_zero():
            return
        if self._log_model == "all":
            self._upload_checkpoints(checkpoint_callback)
        elif self._log_model is True:
            self._checkpoint_callback = checkpoint_callback

    def _upload_checkpoints(self, checkpoint_callback: Any) -> None:
        paths: set[str] = set(getattr(checkpoint_callback, "best_k_models", {}) or {})
        for attribute in ("best_model_path", "last_model_path"):
            path = getattr(checkpoint_callback, attribute, None)
            if path:
                paths.add(str(path))
        client = self.experiment
        assert self._run_id is not None
        for path in sorted(paths):
            file = Path(path)
            if not file.is_file():
                continue
            changed = file.stat().st_mtime
            if self._uploaded.get(path) == changed:
                continue
            client.log_artifact(self._run_id, str(file), f"model/checkpoints/{file.stem}")
            self._uploaded[path] = changed


def _rank_zero() -> bool:
    """Lightning calls loggers on every process; only rank 0 writes (as its own loggers do)."""
    try:
        from lightning_utilities.core.rank_zero import rank_zero_only
    except ImportError:
        return True
    return int(getattr(rank_zero_only, "rank", 0) or 0) == 0


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


@functools.cache
def logger_class(package: ModuleType) -> type:
    base = importlib.import_module(f"{package.__name__}.loggers.logger").Logger
    return type("MltrailLogger", (LoggerCore, base), {"__module__": __name__})


def __getattr__(name: str) -> Any:
    if name in ("MltrailLogger", "MLFlowLogger"):
        return logger_class(importlib.import_module("lightning.pytorch"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
