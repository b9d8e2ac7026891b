"""The common scoring request, answered without pandas.

A body ``{"dataframe_split": {"columns": [...], "data": [[...]]}}`` (or the older bare
``{"columns": ..., "data": ...}``) whose columns are exactly the signature's, for a model whose
inputs all share one floating-point type, is one NumPy block. When the flavor can predict on
such a block (``PyFuncModel.matrix_predict``), the table, the schema checks it would pass and
the flavor's own re-validation are skipped; the predictions are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mltrail.types.schema import ColSpec, DataType

_SPLIT_KEYS = frozenset({"columns", "data"})


class MatrixPath:
    """Recognises the block-shaped requests of one model and predicts on them."""

    def __init__(self, columns: list[str], dtype: Any, predict: Callable[[Any], Any]) -> None:
        self.columns = columns
        self.dtype = dtype
        self.predict = predict

    def block(self, request: Any) -> Any:
        """The request's data as a 2-D array of the model's type, or None for any other
        request (the general path then parses it, and explains what is wrong)."""
        if not isinstance(request, dict):
            return None
        if len(request) == 1:
            value = request.get("dataframe_split")
        elif request.keys() == _SPLIT_KEYS:
            value = request
        else:
            return None
        if not isinstance(value, dict) or value.keys() != _SPLIT_KEYS:
            return None
        if value["columns"] != self.columns:
            return None
        try:
            block = np.asarray(value["data"], dtype=self.dtype)
        except (ValueError, TypeError):
            return None
        if block.ndim != 2 or block.shape[1] != len(self.columns) or block.shape[0] == 0:
            return None
        return block


def matrix_path(model: Any) -> MatrixPath | None:
    """The fast path for ``model`` (a ``PyFuncModel``), when it has one."""
    schema = model.metadata.get_input_schema()
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return None
    types = {s.type for s in schema.inputs if isinstance(s, ColSpec)}
    if len(types) != 1 or len(schema.inputs) == 0:
        return None
    kind = next(iter(types))
    if not isinstance(kind, DataType) or kind not in (DataType.float, DataType.double):
        return None
    predict = model.matrix_predict()
    if predict is None:
        return None
    return MatrixPath([str(s.name) for s in schema.inputs], kind.to_numpy(), predict)
