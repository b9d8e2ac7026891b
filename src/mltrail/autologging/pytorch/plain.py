"""PyTorch without Lightning: a small tracker for a hand-written training loop.

    with TrainingTracker(model, optimizer, log_every_n_step=10) as tracker:
        for x, y in loader:
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()            # counted through an optimizer hook
            tracker.log_loss(loss)      # logged every n optimizer steps, at that step

It logs the optimizer's name and settings as params (MLflow's names), the losses and any
``log_metric`` values with the optimizer step as their step, and the model at the end through
``mltrail.pytorch`` (as ``model``). Without an active run it makes one, tagged
``mlflow.autologging=pytorch``, and ends it (FAILED if the loop raised).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from mltrail.autologging import model_logging, runs, safety
from mltrail.autologging.pytorch import FLAVOR
from mltrail.tracking import fluent


class TrainingTracker:
    def __init__(
        self,
        model: Any = None,
        optimizer: Any = None,
        log_every_n_step: int = 1,
        log_models: bool = True,
        params: dict[str, Any] | None = None,
        registered_model_name: str | None = None,
    ) -> None:
        if log_every_n_step < 1:
            from mltrail.exceptions import InvalidParameter

            raise InvalidParameter(f"log_every_n_step must be at least 1, not {log_every_n_step}.")
        self.model = model
        self.optimizer = optimizer
        self.every = log_every_n_step
        self.log_models = log_models
        self.params = dict(params or {})
        self.registered_model_name = registered_model_name
        self.step = 0
        self.run_id: str | None = None
        self._own_run = False
        self._hook: Any = None

    def __enter__(self) -> TrainingTracker:
        active = fluent.active_run()
        if active is None:
            active = fluent.start_run(tags={runs.AUTOLOGGING_TAG: FLAVOR})
            self._own_run = True
        self.run_id = active.info.run_id
        params = dict(self.params)
        if self.optimizer is not None:
            params["optimizer_name"] = type(self.optimizer).__name__
            params.update(getattr(self.optimizer, "defaults", {}) or {})
            register = getattr(self.optimizer, "register_step_post_hook", None)
            if register is not None:
                self._hook = register(self._count_step)
        safety.guarded(FLAVOR, runs.log_params, FLAVOR, self.run_id, params)
        return self

    def _count_step(self, *_args: Any, **_kwargs: Any) -> None:
        self.step += 1

    def _due(self) -> bool:
        return self.step % self.every == 0

    def log_loss(self, loss: Any, name: str = "loss") -> None:
        """Log a loss (a tensor or a number) at the current optimizer step, every n steps."""
        if self.run_id is None or not self._due():
            return
        self.log_metric(name, loss)

    def log_metric(self, name: str, value: Any) -> None:
        if self.run_id is None:
            return
        safety.guarded(FLAVOR, runs.log_metrics, self.run_id, {name: value}, self.step)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._hook is not None:
            self._hook.remove()
        if self.run_id is None:
            return
        if exc_type is None and self.log_models and self.model is not None:
            model_logging.log_with_flavor(
                "pytorch",
                FLAVOR,
                self.run_id,
                self.model,
                "model",
                registered_model_name=self.registered_model_name,
            )
        if self._own_run:
            status = "FINISHED" if exc_type is None else "FAILED"
            active = fluent.active_run()
            if active is not None and active.info.run_id == self.run_id:
                fluent.end_run(status)


track_training = TrainingTracker
