"""One sample of the machine: CPU, memory, disk and network through psutil, NVIDIA GPUs
through nvidia-ml-py (``pynvml``) when it is installed and finds a GPU. Names are MLflow's."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("mltrail.autologging")
_MB = 1024 * 1024


class CpuMemoryDiskNetwork:
    def __init__(self, disk_path: str = "/") -> None:
        import psutil

        self._psutil = psutil
        self._disk_path = disk_path
        counters = psutil.net_io_counters()
        self._net_start = (counters.bytes_recv, counters.bytes_sent) if counters else (0, 0)
        psutil.cpu_percent(interval=None)  # the first call only starts the measurement

    def sample(self) -> dict[str, float]:
        ps = self._psutil
        memory = ps.virtual_memory()
        disk = ps.disk_usage(self._disk_path)
        out = {
            "cpu_utilization_percentage": ps.cpu_percent(interval=None),
            "system_memory_usage_megabytes": (memory.total - memory.available) / _MB,
            "system_memory_usage_percentage": memory.percent,
            "disk_usage_percentage": disk.percent,
            "disk_usage_megabytes": disk.used / _MB,
            "disk_available_megabytes": disk.free / _MB,
        }
        counters = ps.net_io_counters()
        if counters:
            out["network_receive_megabytes"] = (counters.bytes_recv - self._net_start[0]) / _MB
            out["network_transmit_megabytes"] = (counters.bytes_sent - self._net_start[1]) / _MB
        return out


class NvidiaGpus:
    def __init__(self) -> None:
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        self._handles = [
            pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
        ]

    def sample(self) -> dict[str, float]:
        nv = self._nvml
        out: dict[str, float] = {}
        for i, handle in enumerate(self._handles):
            memory = nv.nvmlDeviceGetMemoryInfo(handle)
            out[f"gpu_{i}_memory_usage_percentage"] = 100.0 * memory.used / memory.total
            out[f"gpu_{i}_memory_usage_megabytes"] = memory.used / _MB
            out[f"gpu_{i}_utilization_percentage"] = float(
                nv.nvmlDeviceGetUtilizationRates(handle).gpu
            )
            try:
                power = nv.nvmlDeviceGetPowerUsage(handle) / 1000.0
                limit = nv.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000.0
                out[f"gpu_{i}_power_usage_watts"] = power
                out[f"gpu_{i}_power_usage_percentage"] = 100.0 * power / limit if limit else 0.0
            except nv.NVMLError:  # some boards do not report power
                pass
        return out


def available_samplers() -> list[Any]:
    samplers: list[Any] = [CpuMemoryDiskNetwork()]
    try:
        gpus = NvidiaGpus()
        if gpus._handles:
            samplers.append(gpus)
    except Exception:  # noqa: BLE001 - no pynvml, no driver, no GPU: all mean "no GPU metrics"
        logger.info(
            "Skip logging GPU metrics: no NVIDIA GPU found (or nvidia-ml-py is not installed)."
        )
    return samplers
