"""``mltrail.spark.autolog``: MLflow's switch for logging the data sources Spark reads.

MLflow does this through a JVM listener shipped as a Spark package; mltrail has no such
listener yet, so the switch is accepted (code written for MLflow keeps running) and says once,
as a warning, that nothing will be logged. Log the data explicitly instead:
``mltrail.log_input(mltrail.data.from_spark(df, path=...), context="training")``.
"""

from __future__ import annotations

import logging

from mltrail.autologging import config

FLAVOR = "spark"
logger = logging.getLogger("mltrail.autologging")


def autolog(disable: bool = False, silent: bool = False, _explicit: bool = True) -> None:
    """Accept MLflow's Spark datasource autologging switch; it logs nothing yet (a warning)."""
    config.set_config(FLAVOR, {"disable": disable, "silent": silent}, explicit=_explicit)
    if not disable and not silent:
        logger.warning(
            "Spark datasource autologging is not supported by mltrail yet: nothing is logged "
            "for Spark reads. Record the data with mltrail.log_input(mltrail.data.from_spark(df))."
        )
