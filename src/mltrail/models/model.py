"""The ``MLmodel`` file: a model directory's description (flavors, signature, input example,
ids), read and written in MLflow's layout so either tool loads what the other saved.

Unknown top-level keys are kept and written back; YAML is read with ``safe_load`` only.
"""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.models.signature import ModelSignature

MLMODEL_FILE_NAME = "MLmodel"

# Keys this class models itself; anything else in a file rides along in ``extra``.
_KNOWN_KEYS = (
    "artifact_path",
    "flavors",
    "metadata",
    "mlflow_version",
    "model_id",
    "model_size_bytes",
    "model_uuid",
    "run_id",
    "saved_input_example_info",
    "signature",
    "utc_time_created",
)


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


class Model:
    """One ``MLmodel`` document."""

    def __init__(
        self,
        artifact_path: str | None = None,
        run_id: str | None = None,
        utc_time_created: str | None = None,
        flavors: dict[str, dict[str, Any]] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        model_uuid: str | None = None,
        mlflow_version: str | None = None,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        model_id: str | None = None,
        **extra: Any,
    ) -> None:
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.utc_time_created = utc_time_created or _utc_now()
        self.flavors: dict[str, dict[str, Any]] = dict(flavors or {})
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid or uuid.uuid4().hex
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.model_id = model_id
        self.extra: dict[str, Any] = dict(extra)

    # -- building ------------------------------------------------------------------------
    def add_flavor(self, name: str, **params: Any) -> Model:
        self.flavors[name] = params
        return self

    # -- reading -------------------------------------------------------------------------
    def get_input_schema(self) -> Any:
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Any:
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> Any:
        return self.signature.params if self.signature is not None else None

    def load_input_example(self, path: str) -> Any:
        """The saved input example of the model at ``path`` (None if it has none)."""
        from mltrail.models.examples import load_input_example

        return load_input_example(path, self.saved_input_example_info)

    def load_input_example_params(self, path: str) -> Any:
        from mltrail.models.examples import load_input_example_params

        return load_input_example_params(path, self.saved_input_example_info)

    def get_model_info(self) -> ModelInfo:
        return ModelInfo(
            artifact_path=self.artifact_path,
            flavors=self.flavors,
            model_uri=f"models:/{self.model_id}"
            if self.model_id
            else (f"runs:/{self.run_id}/{self.artifact_path}" if self.run_id else ""),
            model_uuid=self.model_uuid,
            run_id=self.run_id,
            saved_input_example_info=self.saved_input_example_info,
            signature=self.signature,
            utc_time_created=self.utc_time_created,
            mlflow_version=self.mlflow_version,
            metadata=self.metadata,
            model_id=self.model_id,
        )

    # -- (de)serialising -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "flavors": self.flavors,
            "model_id": self.model_id,
            "model_uuid": self.model_uuid,
            "utc_time_created": self.utc_time_created,
        }
        optional = {
            "artifact_path": self.artifact_path,
            "run_id": self.run_id,
            "mlflow_version": self.mlflow_version,
            "metadata": self.metadata,
            "model_size_bytes": self.model_size_bytes,
            "saved_input_example_info": self.saved_input_example_info,
        }
        out.update({k: val for k, val in optional.items() if val is not None})
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
            out.setdefault("is_signature_from_type_hint", False)
            out.setdefault("type_hint_from_example", False)
        for key, val in self.extra.items():
            out.setdefault(key, val)
        return out

    def to_yaml(self) -> str:
        return str(yaml.safe_dump(self.to_dict(), default_flow_style=False, sort_keys=True))

    def save(self, path: str) -> None:
        """Write the document to ``path`` (a file name, usually ``<dir>/MLmodel``)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_yaml())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        if not isinstance(data, dict):
            raise InvalidParameter("An MLmodel file must hold a YAML mapping.")
        known = {k: data[k] for k in _KNOWN_KEYS if k in data}
        extra = {k: val for k, val in data.items() if k not in _KNOWN_KEYS}
        sig = known.pop("signature", None)
        signature = ModelSignature.from_dict(sig) if isinstance(sig, dict) else None
        flavors = known.pop("flavors", None) or {}
        if not isinstance(flavors, dict):
            raise InvalidParameter("The 'flavors' of an MLmodel file must be a mapping.")
        utc = known.pop("utc_time_created", None)
        return cls(
            flavors=flavors,
            signature=signature,
            utc_time_created=str(utc) if utc is not None else None,
            **known,
            **extra,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read a model directory's ``MLmodel`` (or the file itself), local paths only; use
        ``mltrail.models.get_model_info`` or ``pyfunc.load_model`` for URIs."""
        path = os.fspath(path)
        file_path = os.path.join(path, MLMODEL_FILE_NAME) if os.path.isdir(path) else path
        if not os.path.isfile(file_path):
            raise NotFound(
                f"No MLmodel file at {path!r}: is this a model directory saved by mltrail "
                "or MLflow?"
            )
        with open(file_path, encoding="utf-8") as f:
            try:
                data = yaml.safe_load(f)
            except yaml.YAMLError as exc:
                raise InvalidParameter(
                    f"The MLmodel file at {file_path!r} is not valid YAML: {exc}"
                ) from None
        return cls.from_dict(data or {})

    def __repr__(self) -> str:
        return f"Model(flavors={list(self.flavors)}, model_id={self.model_id!r})"


@dataclass
class ModelInfo:
    """What ``log_model`` returns: where the model is and how it is described."""

    artifact_path: str | None
    flavors: dict[str, Any]
    model_uri: str
    model_uuid: str
    run_id: str | None
    saved_input_example_info: dict[str, Any] | None
    signature: ModelSignature | None
    utc_time_created: str
    mlflow_version: str | None
    metadata: dict[str, Any] | None = None
    model_id: str | None = None
    registered_model_version: int | None = None
    name: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def signature_dict(self) -> dict[str, Any] | None:
        return self.signature.to_dict() if self.signature is not None else None
