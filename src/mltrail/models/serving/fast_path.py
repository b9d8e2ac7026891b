"""The common scoring request, answered without pandas.

A body ``{"dataframe_split": {"columns": [...], "data": [[...]]}}`` (or the older bare
``{"columns": ..., "data": ...}``) whose columns are exactly the signature's, for a model whose
inputs all share one floating-point type, is one NumPy block. When the flavor can predict on
such a block (``PyFuncModel.matrix_predict``), the table, the schema checks it would pass and
the flavor's own re-validation are skipped; the predictions are the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mltrail.types.schema import ColSpec, DataType

_SPLIT_KEYS = frozenset({"columns", "data"})
INLINE_ROWS = 64
INLINE_SECONDS = 0.001


class MatrixPath:
    """Recognises the block-shaped requests of one model and predicts on them."""

    def __init__(self, columns: list[str], dtype: Any, predict: Callable[[Any], Any]) -> None:
        self.columns = columns
        self.dtype = dtype
        self._predict = predict
        self._cost: float | None = None  # moving average of small predictions, in seconds

    def predict(self, block: Any) -> Any:
        """The model's predictions for ``block``; small ones are timed (see ``inline``)."""
        if len(block) > INLINE_ROWS:
            return self._predict(block)
        start = time.perf_counter()
        out = self._predict(block)
        spent = time.perf_counter() - start
        self._cost = spent if self._cost is None else 0.8 * self._cost + 0.2 * spent
        return out

    def inline(self, rows: int) -> bool:
        """Whether a block of ``rows`` may be predicted on the event loop itself: it is small
        and this model's small predictions have taken under a millisecond, so the loop is
        held about as long as handing the work to a thread and back would take."""
        return rows <= INLINE_ROWS and self._cost is not None and self._cost < INLINE_SECONDS

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
