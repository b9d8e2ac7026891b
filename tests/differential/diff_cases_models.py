"""Differential cases: models (``log_model``/``load_model`` for sklearn and pyfunc, model URIs,
signatures inferred and enforced, input examples, logged models linked to runs).

Observations are what user code sees: predictions, the MLmodel's flavors and loader, the
signature as a dict, the model info's fields, errors with their codes, and the files every
model directory has."""

from __future__ import annotations

import json
from typing import Any

from diff_harness import Ctx, case


def _data() -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    x = pd.DataFrame(
        {
            "a": rng.normal(size=40),
            "b": rng.normal(size=40),
            "n": rng.integers(0, 5, size=40).astype("int64"),
        }
    )
    y = (x["a"] + x["b"] > 0).astype("int64")
    return x, y


def _fitted() -> tuple[Any, Any, Any]:
    from sklearn.linear_model import LogisticRegression

    x, y = _data()
    return LogisticRegression().fit(x, y), x, y


def _signature_dict(signature: Any) -> Any:
    if signature is None:
        return None
    raw = signature.to_dict()
    return {k: json.loads(v) if isinstance(v, str) else v for k, v in raw.items()}


def _mlmodel_view(ctx: Ctx, model_uri: str) -> Any:
    """The parts of an MLmodel other tools read: flavors, pyfunc loader, signature, example."""
    info = ctx.ml.models.get_model_info(model_uri)
    flavors = info.flavors
    return {
        "flavors": sorted(flavors),
        "loader_module": flavors.get("python_function", {}).get("loader_module"),
        "signature": _signature_dict(info.signature),
        "has_input_example": info.saved_input_example_info is not None,
        "example_type": (info.saved_input_example_info or {}).get("type"),
    }


def _predictions(values: Any) -> Any:
    import numpy as np

    return np.asarray(values).tolist()


@case("models_sklearn_log_and_load", ["positional_path", "name", "with_example"])
def models_sklearn_log_and_load(ctx: Ctx, how: str) -> Any:
    model, x, _ = _fitted()
    with ctx.ml.start_run() as run:
        if how == "positional_path":
            info = ctx.ml.sklearn.log_model(model, "model")
        elif how == "name":
            info = ctx.ml.sklearn.log_model(model, name="model")
        else:
            info = ctx.ml.sklearn.log_model(model, name="model", input_example=x.head(3))
    ctx.name_id(run.info.run_id, "<run0>")
    ctx.name_id(info.model_id, "<model>")
    runs_uri = f"runs:/{run.info.run_id}/model"
    native = ctx.ml.sklearn.load_model(info.model_uri)
    pyfunc = ctx.ml.pyfunc.load_model(runs_uri)
    return {
        "info": {
            "run_id": info.run_id,
            "model_uri": info.model_uri,
            "flavors": sorted(info.flavors),
            "signature": _signature_dict(info.signature),
        },
        "mlmodel": _mlmodel_view(ctx, runs_uri),
        "native": _predictions(native.predict(x.head(5))),
        "pyfunc": _predictions(pyfunc.predict(x.head(5))),
        "native_type": type(native).__name__,
        "run_status": ctx.client.get_run(run.info.run_id).info.status,
    }


@case("models_logged_model_entity")
def models_logged_model_entity(ctx: Ctx, _: Any) -> Any:
    model, x, _ = _fitted()
    with ctx.ml.start_run() as run:
        info = ctx.ml.sklearn.log_model(model, name="clf", params={"alpha": "0.5"})
    ctx.name_id(run.info.run_id, "<run0>")
    ctx.name_id(info.model_id, "<model>")
    logged = ctx.client.get_logged_model(info.model_id)
    outputs = ctx.client.get_run(run.info.run_id).outputs
    return {
        "name": logged.name,
        "status": str(logged.status),
        "source_run_id": logged.source_run_id,
        "experiment_id": logged.experiment_id,
        "params": dict(logged.params or {}),
        # MLflow's REST client reads an unset model_type as "" (its local one: None).
        "model_type": logged.model_type or None,
        "run_outputs": sorted(o.model_id for o in (outputs.model_outputs if outputs else [])),
        "active_model_id_after": ctx.ml.last_logged_model().model_id,
    }


@case(
    "models_infer_signature",
    ["frame", "frame_and_series", "numpy", "dict_of_arrays", "list_of_str", "with_params"],
)
def models_infer_signature(ctx: Ctx, what: str) -> Any:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {"f": [1.5, 2.5], "i": np.array([1, 2], dtype="int64"), "s": ["x", "y"], "b": [True, False]}
    )
    inputs: dict[str, Any] = {
        "frame": (frame, None),
        "frame_and_series": (frame, pd.Series([0.1, 0.2], name="score")),
        "numpy": (np.zeros((3, 4), dtype="float32"), np.zeros(3, dtype="int64")),
        "dict_of_arrays": ({"a": np.ones(3), "b": np.array(["p", "q", "r"])}, None),
        "list_of_str": (["one", "two"], None),
        "with_params": (frame, None),
    }
    model_input, model_output = inputs[what]
    params = {"temperature": 0.5, "top_k": 3} if what == "with_params" else None
    return ctx.call(
        lambda: _signature_dict(ctx.ml.models.infer_signature(model_input, model_output, params))
    )


@case(
    "models_signature_enforced",
    ["exact", "int_for_float", "missing_column", "string_for_float", "extra_column"],
    deliberate={"int_for_float": "int-for-float-inputs"},
    server_deliberate=None,  # through a server, MLflow's own pyfunc does the predicting
)
def models_signature_enforced(ctx: Ctx, what: str) -> Any:
    model, x, _ = _fitted()
    with ctx.ml.start_run():
        signature = ctx.ml.models.infer_signature(x)
        info = ctx.ml.sklearn.log_model(model, name="model", signature=signature)
    ctx.name_id(info.model_id, "<model>")
    loaded = ctx.ml.pyfunc.load_model(info.model_uri)
    frame = x.head(4).copy()
    if what == "int_for_float":
        frame["a"] = [1, 0, 2, -1]
    elif what == "missing_column":
        frame = frame.drop(columns=["b"])
    elif what == "string_for_float":
        frame["a"] = ["p", "q", "r", "s"]
    elif what == "extra_column":
        frame["zz"] = 1.0
    return ctx.call(lambda: _predictions(loaded.predict(frame)))


def _python_model(ml: Any) -> Any:
    """A PythonModel defined per library (the base class differs)."""

    class Adder(ml.pyfunc.PythonModel):  # type: ignore[misc, name-defined]
        def load_context(self, context: Any) -> None:
            with open(context.artifacts["offset"]) as f:
                self.offset = float(f.read())

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            scale = (params or {}).get("scale", 1.0)
            return [(float(v) + self.offset) * scale for v in model_input["x"]]

    return Adder()


@case("models_pyfunc_python_model", ["no_params", "params", "unwrap"])
def models_pyfunc_python_model(ctx: Ctx, what: str) -> Any:
    import pandas as pd

    offset = ctx.tmp / "offset.txt"
    offset.write_text("10")
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    signature = ctx.ml.models.infer_signature(frame, [1.0, 2.0], {"scale": 1.0})
    with ctx.ml.start_run():
        info = ctx.ml.pyfunc.log_model(
            name="adder",
            python_model=_python_model(ctx.ml),
            artifacts={"offset": str(offset)},
            signature=signature,
        )
    ctx.name_id(info.model_id, "<model>")
    loaded = ctx.ml.pyfunc.load_model(info.model_uri)
    if what == "unwrap":
        inner = loaded.unwrap_python_model()
        return {"type": type(inner).__name__, "offset": inner.offset}
    params = {"scale": 2.0} if what == "params" else None
    return {
        "predictions": ctx.call(lambda: _predictions(loaded.predict(frame, params=params))),
        "flavors": sorted(info.flavors),
        "signature": _signature_dict(info.signature),
    }


@case(
    "models_bad_uri",
    ["missing_run", "missing_path_in_run", "missing_local_dir", "missing_model_id"],
)
def models_bad_uri(ctx: Ctx, what: str) -> Any:
    with ctx.ml.start_run() as run:
        ctx.ml.log_text("x", "notes.txt")
    ctx.name_id(run.info.run_id, "<run0>")
    uris = {
        "missing_run": "runs:/0123456789abcdef0123456789abcdef/model",
        "missing_path_in_run": f"runs:/{run.info.run_id}/model",
        "missing_local_dir": str(ctx.tmp / "no-such-model"),
        "missing_model_id": "models:/m-0123456789abcdef0123456789abcdef",
    }
    return ctx.call(lambda: ctx.ml.pyfunc.load_model(uris[what]))


@case("models_save_and_load_local_path", ["sklearn", "existing_dir"])
def models_save_and_load_local_path(ctx: Ctx, what: str) -> Any:
    model, x, _ = _fitted()
    target = ctx.tmp / "saved"
    if what == "existing_dir":
        target.mkdir()
        (target / "keep.txt").write_text("mine")
    outcome = ctx.call(lambda: ctx.ml.sklearn.save_model(model, str(target)))
    if outcome[0] != "ok":
        return {"save": outcome, "kept": (target / "keep.txt").exists()}
    loaded = ctx.ml.pyfunc.load_model(str(target))
    return {
        "save": outcome,
        "predictions": _predictions(loaded.predict(x.head(3))),
        "mlmodel": _mlmodel_view(ctx, str(target)),
        "files": sorted(p.name for p in target.iterdir() if p.name in _SHARED_FILES),
    }


# Files every MLflow 3 model directory has, whatever the flavor's own serialization.
_SHARED_FILES = {"MLmodel", "requirements.txt", "python_env.yaml", "conda.yaml"}


@case("models_register_on_log")
def models_register_on_log(ctx: Ctx, _: Any) -> Any:
    model, x, _ = _fitted()
    name = f"diff-reg-{ctx.exp_id}-{ctx.impl.name}"
    ctx.name_id(name, "<registered>")
    with ctx.ml.start_run() as run:
        info = ctx.ml.sklearn.log_model(model, name="m", registered_model_name=name)
    ctx.name_id(run.info.run_id, "<run0>")
    ctx.name_id(info.model_id, "<model>")
    version = ctx.client.get_model_version(name, "1")
    by_version = ctx.ml.pyfunc.load_model(f"models:/{name}/1")
    return {
        "registered_version": str(info.registered_model_version),
        "version_run_id": version.run_id,
        "version_status": version.status,
        "predictions": _predictions(by_version.predict(x.head(3))),
    }
