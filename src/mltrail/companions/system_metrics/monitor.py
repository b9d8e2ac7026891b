"""A background thread per run that samples the machine every ``interval`` seconds and logs
the average of every ``samples_before_logging`` samples as ``system/<name>`` metrics, step 0, 1,
2... Writes go through the client's buffer; the thread stops when the run ends."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from mltrail.companions.system_metrics import settings

logger = logging.getLogger("mltrail.autologging")


class SystemMetricsMonitor:
    def __init__(
        self,
        run_id: str,
        client: Any,
        interval: float | None = None,
        samples_before_logging: int | None = None,
        node_id: str | None = None,
    ) -> None:
        from mltrail.companions.system_metrics.samplers import available_samplers

        self.run_id = run_id
        self._client = client
        self.interval = interval if interval is not None else settings.sampling_interval()
        self.samples_before_logging = samples_before_logging or settings.samples_before_logging()
        node = node_id if node_id is not None else settings.node_id()
        self.prefix = f"system/{node}/" if node else "system/"
        self._samplers = available_samplers()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"mltrail-system-metrics-{run_id[:8]}", daemon=True
        )
        self.step = 0

    def start(self) -> None:
        logger.info("Started monitoring system metrics.")
        self._thread.start()

    def stop(self) -> None:
        logger.info("Stopping system metrics monitoring...")
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=max(5.0, self.interval))
        logger.info("Successfully terminated system metrics monitoring!")

    def _run(self) -> None:
        sums: dict[str, float] = defaultdict(float)
        taken = 0
        while not self._stop.wait(self.interval):
            try:
                for sampler in self._samplers:
                    for key, value in sampler.sample().items():
                        sums[key] += value
                taken += 1
                if taken >= self.samples_before_logging:
                    self._log({k: round(v / taken, 1) for k, v in sums.items()})
                    sums.clear()
                    taken = 0
            except Exception as exc:  # noqa: BLE001 - a monitoring thread must not die loudly
                logger.warning("System metrics sampling failed: %s", exc)

    def _log(self, averages: dict[str, float]) -> None:
        for key, value in averages.items():
            self._client.log_metric(self.run_id, self.prefix + key, value, step=self.step)
        self.step += 1
