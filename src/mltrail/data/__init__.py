"""Datasets a run trained or was evaluated on: ``from_pandas``, ``from_numpy``, ``from_spark``
make a ``Dataset`` (digest, source, schema, profile) that ``mltrail.log_input`` records."""

from __future__ import annotations

from mltrail.data.dataset import Dataset
from mltrail.data.numpy_dataset import from_numpy
from mltrail.data.pandas_dataset import from_pandas
from mltrail.data.spark_dataset import from_spark

__all__ = ["Dataset", "from_numpy", "from_pandas", "from_spark"]
