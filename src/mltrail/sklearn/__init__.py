"""``mltrail.sklearn``: scikit-learn models (MLflow's ``mlflow.sklearn``).

The default format is skops, which loads without running pickled code; ``cloudpickle`` and
``pickle`` are available on request (``serialization_format=``) and load only from a source
you chose. The files and ``MLmodel`` follow MLflow's layout (``loader_module: mlflow.sklearn``)
so MLflow loads these models too. scikit-learn is imported only when a model needs it.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.models import model_logging
from mltrail.models.environment import infer_requirements
from mltrail.models.model import Model, ModelInfo
from mltrail.models.saving import copy_code_paths, finish_model_dir, prepare_model_dir
from mltrail.models.signature import ModelSignature
from mltrail.pyfunc.flavor import add_to_model

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_SKOPS = "skops"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SUPPORTED_SERIALIZATION_FORMATS = [
    SERIALIZATION_FORMAT_SKOPS,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
]
_PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba", "score")


def _file_name(fmt: str) -> str:
    return "model.skops" if fmt == SERIALIZATION_FORMAT_SKOPS else "model.pkl"


def _require_sklearn() -> Any:
    try:
        import sklearn
    except ImportError:
        raise MltrailException(
            "This model needs scikit-learn: pip install scikit-learn.",
            error_code="RESOURCE_DOES_NOT_EXIST",
        ) from None
    return sklearn


def _skops_types_needed(model: Any, trusted: Sequence[str] | None) -> list[str] | None:
    from mltrail.sklearn.skops_loader import import_skops_io

    skops_io = import_skops_io()

    # skops refuses to load types it cannot vouch for (e.g. sklearn.tree._tree.Tree, whose
    # raw node indices a crafted file can abuse); the person saving must name them.
    untrusted = skops_io.get_untrusted_types(data=skops_io.dumps(model))
    given = set(trusted or [])
    unknown = [t for t in untrusted if t not in given]
    if unknown:
        raise InvalidParameter(
            f"The model contains types skops does not trust by default: {unknown}. If you "
            "created this model yourself, pass skops_trusted_types=" + repr(unknown) + ", or "
            "use serialization_format='cloudpickle' (loads only from sources you trust)."
        )
    needed = sorted(set(untrusted) | given)
    return needed or None


def _serialize(model: Any, path: str, fmt: str, trusted: Sequence[str] | None) -> Any:
    if fmt == SERIALIZATION_FORMAT_SKOPS:
        from mltrail.sklearn.skops_loader import import_skops_io

        try:
            skops_io = import_skops_io()
        except ImportError:
            raise MltrailException(
                "The skops format needs skops: pip install skops (or choose "
                "serialization_format='cloudpickle').",
                error_code="RESOURCE_DOES_NOT_EXIST",
            ) from None
        types = _skops_types_needed(model, trusted)
        skops_io.dump(model, path)
        return types
    with open(path, "wb") as f:
        if fmt == SERIALIZATION_FORMAT_CLOUDPICKLE:
            import cloudpickle

            cloudpickle.dump(model, f)
        else:
            pickle.dump(model, f, protocol=pickle.DEFAULT_PROTOCOL)
    return None


def save_model(
    sk_model: Any,
    path: str,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    serialization_format: str = SERIALIZATION_FORMAT_SKOPS,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    **_ignored: Any,
) -> None:
    """Save a scikit-learn estimator (or pipeline) as a model directory at ``path``."""
    sklearn = _require_sklearn()
    if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
        raise InvalidParameter(
            f"Unrecognized serialization format: {serialization_format}. Please specify one "
            f"of the following supported formats: {SUPPORTED_SERIALIZATION_FORMATS}."
        )
    if pyfunc_predict_fn not in _PREDICT_FNS:
        raise InvalidParameter(
            f"pyfunc_predict_fn must be one of {list(_PREDICT_FNS)}, got {pyfunc_predict_fn!r}."
        )
    # A model without predict (DBSCAN) may still be saved and loaded natively.
    if pyfunc_predict_fn != "predict" and not hasattr(sk_model, pyfunc_predict_fn):
        raise InvalidParameter(
            f"The model of type {type(sk_model).__name__} has no {pyfunc_predict_fn} method."
        )
    path = prepare_model_dir(path)
    mlflow_model = mlflow_model or Model()
    code = copy_code_paths(path, code_paths)
    file_name = _file_name(serialization_format)
    trusted = _serialize(
        sk_model, os.path.join(path, file_name), serialization_format, skops_trusted_types
    )
    add_to_model(
        mlflow_model,
        loader_module="mlflow.sklearn",
        model_path=file_name,
        predict_fn=pyfunc_predict_fn,
        code=code,
    )
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        pickled_model=file_name,
        sklearn_version=sklearn.__version__,
        serialization_format=serialization_format,
        code=code,
        skops_trusted_types=trusted,
    )
    packages = ["sklearn", "numpy", "scipy", "pandas"]
    packages.append("skops" if serialization_format == "skops" else "cloudpickle")
    if serialization_format == SERIALIZATION_FORMAT_PICKLE:
        packages.remove("cloudpickle")
    finish_model_dir(
        path,
        mlflow_model,
        signature=signature,
        input_example=input_example,
        requirements=infer_requirements([sk_model], packages),
        conda_env=conda_env,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        predict=getattr(sk_model, pyfunc_predict_fn, None),
    )


def log_model(
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    serialization_format: str = SERIALIZATION_FORMAT_SKOPS,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Any = None,
    extra_pip_requirements: Any = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    name: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a scikit-learn model to the active run (``log_model(model, "name")`` works)."""
    return model_logging.log_model(
        save_model,
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        sk_model=sk_model,
        conda_env=conda_env,
        code_paths=code_paths,
        serialization_format=serialization_format,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        pyfunc_predict_fn=pyfunc_predict_fn,
        metadata=metadata,
        skops_trusted_types=skops_trusted_types,
    )


def _load_file(file_path: str, fmt: str, trusted: Sequence[str] | None) -> Any:
    from mltrail.models.safety import check_pickle_allowed

    _require_sklearn()
    if fmt == SERIALIZATION_FORMAT_SKOPS:
        from mltrail.sklearn import skops_reader
        from mltrail.sklearn.skops_loader import import_skops_io, trusted_type_names

        # The common files (linear models, pipelines, scalers...) are read without importing
        # skops, under the same trust; anything else goes to skops below.
        names = trusted_type_names()
        if names is not None:
            model = skops_reader.read(file_path, names, list(trusted or []))
            if model is not skops_reader.UNREAD:
                return model
        skops_io = import_skops_io()
        # Only the types the model's author listed when saving are trusted beyond skops's own.
        allowed = list(trusted or [])
        refused = [t for t in skops_io.get_untrusted_types(file=file_path) if t not in allowed]
        if refused:
            raise MltrailException(
                f"Refusing to load this skops model: it contains the untrusted types {refused}, "
                "which its MLmodel does not list in skops_trusted_types.",
                error_code="PERMISSION_DENIED",
            )
        return skops_io.load(file_path, trusted=allowed or None)
    if fmt not in (SERIALIZATION_FORMAT_PICKLE, SERIALIZATION_FORMAT_CLOUDPICKLE):
        raise InvalidParameter(f"Unrecognized serialization format: {fmt}.")
    check_pickle_allowed(f"a scikit-learn model saved with {fmt}")
    with open(file_path, "rb") as f:
        if fmt == SERIALIZATION_FORMAT_CLOUDPICKLE:
            import cloudpickle

            return cloudpickle.load(f)
        return pickle.load(f)  # noqa: S301 - gated above; the user chose this model


def _load_from_dir(path: str) -> Any:
    model = Model.load(path)
    conf = model.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise NotFound(f'Model does not have the "{FLAVOR_NAME}" flavor')
    return _load_file(
        os.path.join(path, conf["pickled_model"]),
        conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE),
        conf.get("skops_trusted_types"),
    )


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The scikit-learn estimator saved at ``model_uri`` (path or model URI)."""
    from mltrail.models.uri import download_model

    return _load_from_dir(download_model(model_uri, dst_path))


# Estimators that read a plain numeric matrix (no column selection by name): for them a
# frame whose columns are exactly the fitted feature names, in order, all of one numeric type,
# can be handed over as its numpy block, which skips pandas validation (most of the time of
# scoring one row). Enabled by the scoring server, which also silences sklearn's "X does not
# have valid feature names" warning that this would otherwise raise on every request.
_MATRIX_MODULES = (
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.tree",
    "sklearn.svm",
    "sklearn.neighbors",
    "sklearn.naive_bayes",
    "sklearn.discriminant_analysis",
)
_fast_numeric = False


def enable_fast_numeric_predict() -> None:
    """Let pyfunc predict pass matching numeric frames as arrays (the scoring server's
    choice: it changes no prediction, only skips re-validating column names)."""
    import warnings

    global _fast_numeric
    warnings.filterwarnings(
        "ignore", message="X does not have valid feature names", category=UserWarning
    )
    _fast_numeric = True


class _SklearnModelWrapper:
    """The pyfunc face of an estimator: its predict methods, dicts and lists accepted."""

    def __init__(self, sk_model: Any) -> None:
        self.sk_model = sk_model
        for name in _PREDICT_FNS[1:]:
            if hasattr(sk_model, name):
                setattr(self, name, getattr(sk_model, name))
        names = getattr(sk_model, "feature_names_in_", None)
        self._matrix_names = (
            [str(n) for n in names]
            if names is not None and type(sk_model).__module__.startswith(_MATRIX_MODULES)
            else None
        )

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        data = _tabular(model_input)
        if _fast_numeric and self._matrix_names is not None:
            block = _numeric_block(data, self._matrix_names)
            if block is not None:
                return self.sk_model.predict(block)
        return self.sk_model.predict(data)

    def matrix_predict(self, names: list[str]) -> Any:
        """The estimator's ``predict`` for numeric arrays whose columns are ``names`` (None
        unless the server enabled it and ``names`` are the fitted feature names, in order)."""
        if _fast_numeric and self._matrix_names is not None and self._matrix_names == names:
            return self.sk_model.predict
        return None

    def get_raw_model(self) -> Any:
        return self.sk_model


def _numeric_block(data: Any, names: list[str]) -> Any:
    import pandas as pd

    if not isinstance(data, pd.DataFrame) or list(data.columns) != names:
        return None
    dtypes = set(data.dtypes)
    if len(dtypes) != 1:
        return None
    dtype = next(iter(dtypes))
    if getattr(dtype, "kind", "") not in "fiub" or not hasattr(dtype, "itemsize"):
        return None
    return data.to_numpy()


def _tabular(data: Any) -> Any:
    """Dicts and lists of records become a DataFrame (a dict of scalars is one row)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, dict):
        if all(v is None or np.isscalar(v) for v in data.values()):
            return pd.DataFrame([data])
        return pd.DataFrame(data)
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame(data)
    return data


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> Any:
    """The pyfunc loader (``loader_module: mlflow.sklearn``)."""
    if os.path.isdir(path):
        return _SklearnModelWrapper(_load_from_dir(path))
    # An old-style ``data: model.pkl`` entry points at the file itself.
    root = os.path.dirname(path)
    try:
        conf = Model.load(root).flavors.get(FLAVOR_NAME, {})
    except NotFound:
        conf = {}
    fmt = conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE)
    return _SklearnModelWrapper(_load_file(path, fmt, conf.get("skops_trusted_types")))


def autolog(*args: Any, **kwargs: Any) -> Any:
    """Log params, metrics and models of every ``fit`` automatically."""
    from mltrail.autologging.sklearn import autolog as _autolog

    return _autolog(*args, **kwargs)


__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "autolog",
    "load_model",
    "log_model",
    "save_model",
]
