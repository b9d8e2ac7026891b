"""The dataset objects ``from_pandas``/``from_numpy``/``from_spark`` return: what a run records
about its data (name, digest, source, schema, profile), never the data itself."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from mltrail.entities import Dataset as DatasetEntity

DIGEST_LENGTH = 8
# Rows hashed for the digest: enough to tell datasets apart, bounded for large ones.
DIGEST_ROWS = 10_000


def short_digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part)
    return hasher.hexdigest()[:DIGEST_LENGTH]


@dataclass
class Dataset:
    """A dataset as logged to a run (MLflow's ``mlflow.data.dataset.Dataset`` interface)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    data: Any = field(default=None, repr=False, compare=False)
    targets: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {
            "name": self.name,
            "digest": self.digest,
            "source": self.source,
            "source_type": self.source_type,
        }
        if self.schema is not None:
            out["schema"] = json.dumps(self.schema)
        if self.profile is not None:
            out["profile"] = json.dumps(self.profile)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _to_mlflow_entity(self) -> DatasetEntity:
        return DatasetEntity(
            name=self.name,
            digest=self.digest,
            source_type=self.source_type,
            source=self.source,
            schema=json.dumps(self.schema) if self.schema is not None else None,
            profile=json.dumps(self.profile) if self.profile is not None else None,
        )

    to_entity = _to_mlflow_entity
