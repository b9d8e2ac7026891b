"""The MLflow 3 life of an autologged model: created PENDING when training starts, so the run's
page shows the model being made; READY once its files are saved and uploaded after training;
FAILED if training (or saving) fails.

The model's files are written by the flavor's own ``save_model`` (``mltrail.pytorch``...) into
the model's artifact location, as ``log_model`` does, so loading it back is the same.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from typing import Any

from mltrail.autologging import model_logging, runs
from mltrail.entities import LoggedModelOutput, Metric


class PendingModel:
    """One logged model, from PENDING to READY or FAILED."""

    def __init__(self, client: Any, run_id: str, logged: Any) -> None:
        self.client = client
        self.run_id = run_id
        self.logged = logged
        self.done = False

    @property
    def model_id(self) -> str:
        return str(self.logged.model_id)

    @classmethod
    def create(cls, run_id: str, flavor: str, name: str = "model") -> PendingModel:
        """A PENDING model of ``run_id``'s experiment, made by that run (and in its outputs)."""
        from mltrail.tracking.context import current_user

        client = runs.client()
        experiment_id = client.get_run(run_id).info.experiment_id
        tags = {"mlflow.user": current_user(), "mlflow.autologging": flavor}
        logged = client.create_logged_model(experiment_id, name, run_id, tags, None, None)
        client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, 0)])
        return cls(client, run_id, logged)

    def save(
        self,
        flavor_name: str,
        model: Any,
        history_keys: Iterable[str] = (),
        registered_model_name: str | None = None,
        **save_kwargs: Any,
    ) -> None:
        """Save ``model`` with ``mltrail.<flavor_name>.save_model`` as this logged model's
        files, give it the run's params and metrics (the whole history of ``history_keys``,
        the latest value of the others), and mark it READY. A failure marks it FAILED and is
        raised."""
        flavor = model_logging.flavor_module(flavor_name)
        models = model_logging.flavor_module("models")
        if flavor is None or models is None:
            raise RuntimeError(f"mltrail.{flavor_name} is not available to save the model.")
        from mltrail.store.artifact import get_artifact_repository

        mlflow_model = models.Model(
            artifact_path=self.logged.artifact_location,
            run_id=self.run_id,
            model_id=self.model_id,
            model_uuid=self.model_id,
        )
        try:
            with tempfile.TemporaryDirectory(prefix="mltrail-model-") as tmp:
                local = os.path.join(tmp, "model")
                flavor.save_model(model, path=local, mlflow_model=mlflow_model,
                                  **{k: v for k, v in save_kwargs.items() if v is not None})
                repo = get_artifact_repository(self.logged.artifact_location,
                                               self.client.tracking_uri)
                repo.log_artifacts(local)
            self._link_run_data(set(history_keys))
        except BaseException:
            self.fail()
            raise
        self.client.finalize_logged_model(self.model_id, "READY")
        self.done = True
        if registered_model_name:
            from mltrail.tracking.fluent_registry import register_model

            register_model(f"models:/{self.model_id}", registered_model_name)

    def _link_run_data(self, history_keys: set[str]) -> None:
        run = self.client.get_run(self.run_id)
        if run.data.params:
            self.client.log_model_params(self.model_id, dict(run.data.params))
        points: list[Metric] = []
        for latest in run.data.metric_objs:
            if latest.key in history_keys:
                history = self.client.get_metric_history(self.run_id, latest.key)
            else:
                history = [latest]
            points.extend(Metric(m.key, m.value, m.timestamp, m.step, model_id=self.model_id)
                          for m in history)
        for start in range(0, len(points), 1000):
            self.client.log_batch(self.run_id, metrics=points[start : start + 1000])

    def fail(self) -> None:
        """FAILED (once; a model already READY or FAILED stays as it is)."""
        if not self.done:
            self.done = True
            self.client.finalize_logged_model(self.model_id, "FAILED")
