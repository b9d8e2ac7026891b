"""``from_numpy``: features (and targets) as tensors: MLflow's tensor spec schema and shapes."""

from __future__ import annotations

import json
from typing import Any

from mltrail.data.dataset import DIGEST_ROWS, Dataset, short_digest
from mltrail.data.sources import resolve_source
from mltrail.exceptions import InvalidParameter


def _tensor_spec(array: Any) -> str:
    shape = [-1, *array.shape[1:]] if array.ndim else []
    return json.dumps(
        [{"type": "tensor", "tensor-spec": {"dtype": str(array.dtype), "shape": shape}}]
    )


def _as_array(value: Any, role: str) -> Any:
    import numpy as np

    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - one clear sentence instead of numpy's
        raise InvalidParameter(f"from_numpy could not read the {role} as an array: {exc}") from None


def from_numpy(
    features: Any,
    source: Any = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> Dataset:
    feats = _as_array(features, "features")
    targs = _as_array(targets, "targets") if targets is not None else None
    source_type, source_json = resolve_source(source)
    parts = [_sample_bytes(feats), str(feats.shape).encode()]
    if targs is not None:
        parts += [_sample_bytes(targs), str(targs.shape).encode()]
    profile: dict[str, Any] = {
        "features_shape": list(feats.shape),
        "features_size": int(feats.size),
        "features_nbytes": int(feats.nbytes),
    }
    schema: dict[str, Any] = {
        "mlflow_tensorspec": {"features": _tensor_spec(feats), "targets": None}
    }
    if targs is not None:
        profile.update(
            targets_shape=list(targs.shape),
            targets_size=int(targs.size),
            targets_nbytes=int(targs.nbytes),
        )
        schema["mlflow_tensorspec"]["targets"] = _tensor_spec(targs)
    return Dataset(
        name=name or "dataset",
        digest=digest or short_digest(*parts),
        source_type=source_type,
        source=source_json,
        schema=schema,
        profile=profile,
        data=feats,
    )


def _sample_bytes(array: Any) -> bytes:
    import numpy as np

    head = array[:DIGEST_ROWS] if array.ndim else array
    if head.dtype == object:
        return "\x1f".join(map(repr, head.ravel().tolist())).encode()
    return bytes(np.ascontiguousarray(head).data)
