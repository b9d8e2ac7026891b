"""``from_pandas``: a DataFrame's column schema (MLflow's colspec types) and row profile."""

from __future__ import annotations

from typing import Any

from mltrail.data.dataset import DIGEST_ROWS, Dataset, short_digest
from mltrail.data.sources import resolve_source
from mltrail.exceptions import InvalidParameter

_KIND_TO_TYPE = {"b": "boolean", "f": "double", "M": "datetime", "O": "string", "U": "string"}


def column_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind in ("i", "u"):
        return "long" if dtype.itemsize >= 8 else "integer"
    if kind == "f" and dtype.itemsize <= 4:
        return "float"
    if kind == "S":
        return "binary"
    return _KIND_TO_TYPE.get(kind, "string")


def from_pandas(
    df: Any,
    source: Any = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> Dataset:
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidParameter(f"from_pandas needs a pandas DataFrame, not {type(df).__name__}.")
    for role, column in (("targets", targets), ("predictions", predictions)):
        if column is not None and column not in df.columns:
            raise InvalidParameter(f"The {role} column {column!r} is not in the DataFrame.")
    source_type, source_json = resolve_source(source)
    head = df.head(DIGEST_ROWS)
    row_hashes = pd.util.hash_pandas_object(head, index=False).to_numpy()
    computed = short_digest(
        row_hashes.tobytes(), str(df.shape).encode(), str(list(df.columns)).encode()
    )
    schema = {
        "mlflow_colspec": [
            {"type": column_type(df[col].dtype), "name": str(col), "required": True}
            for col in df.columns
        ]
    }
    return Dataset(
        name=name or "dataset",
        digest=digest or computed,
        source_type=source_type,
        source=source_json,
        schema=schema,
        profile={"num_rows": int(df.shape[0]), "num_elements": int(df.size)},
        data=df,
        targets=targets,
    )
