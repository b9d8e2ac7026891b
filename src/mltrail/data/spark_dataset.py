"""``from_spark``: a Spark DataFrame's schema and plan hash, without collecting its rows."""

from __future__ import annotations

from typing import Any

from mltrail.data.dataset import Dataset, short_digest
from mltrail.data.sources import resolve_source
from mltrail.exceptions import InvalidParameter

_SPARK_TO_COLSPEC = {
    "LongType": "long",
    "IntegerType": "integer",
    "ShortType": "integer",
    "ByteType": "integer",
    "DoubleType": "double",
    "FloatType": "float",
    "StringType": "string",
    "BooleanType": "boolean",
    "BinaryType": "binary",
    "TimestampType": "datetime",
    "DateType": "datetime",
}


def from_spark(
    df: Any,
    path: str | None = None,
    table_name: str | None = None,
    version: str | None = None,
    sql: str | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> Dataset:
    if not hasattr(df, "schema") or not hasattr(df, "semanticHash"):
        raise InvalidParameter(f"from_spark needs a Spark DataFrame, not {type(df).__name__}.")
    if table_name is not None:
        source_type, source_json = (
            "spark_table",
            _json({"table_name": table_name, "version": version}),
        )
    elif sql is not None:
        source_type, source_json = "spark_sql", _json({"query": sql})
    else:
        source_type, source_json = resolve_source(path)
    schema = {
        "mlflow_colspec": [
            {
                "type": _SPARK_TO_COLSPEC.get(type(f.dataType).__name__, "string"),
                "name": f.name,
                "required": not f.nullable,
            }
            for f in df.schema.fields
        ]
    }
    computed = short_digest(df.schema.json().encode(), str(df.semanticHash()).encode())
    profile = _plan_statistics(df)
    return Dataset(
        name=name or "dataset",
        digest=digest or computed,
        source_type=source_type,
        source=source_json,
        schema=schema,
        profile=profile,
        data=df,
        targets=targets,
    )


def _plan_statistics(df: Any) -> dict[str, Any] | None:
    """Spark's own estimate of the data's size (and rows, when known) from the optimized
    plan: no job runs, nothing is collected."""
    try:
        stats = df._jdf.queryExecution().optimizedPlan().stats()
        profile: dict[str, Any] = {"approx_size_in_bytes": int(str(stats.sizeInBytes()))}
        rows = stats.rowCount()
        if rows.isDefined():
            profile["approx_count"] = int(str(rows.get()))
        return profile
    except Exception:  # noqa: BLE001 - the profile is optional; Connect has no JVM plan
        return None


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps({k: v for k, v in value.items() if v is not None})
