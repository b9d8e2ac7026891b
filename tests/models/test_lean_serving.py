"""Serving a scikit-learn model without pandas until a request needs it: what loads lean, that
the loaded process has not imported pandas, and that the fast numeric path answers what the
ordinary path answers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import mltrail
from mltrail.models import infer_signature
from mltrail.models.serving.fast_path import matrix_path
from mltrail.models.serving.lean_load import loads_without_pandas
from mltrail.models.serving.runner import load_for_serving


def _save(tmp_path, iris, iris_model, **kwargs):
    features, _ = iris
    path = tmp_path / kwargs.pop("name", "m")
    mltrail.sklearn.save_model(
        iris_model,
        path,
        signature=infer_signature(features, iris_model.predict(features)),
        **kwargs,
    )
    return str(path)


def test_only_pure_sklearn_skops_models_load_without_pandas(tmp_path, iris, iris_model):
    assert loads_without_pandas(_save(tmp_path, iris, iris_model))
    pickled = _save(tmp_path, iris, iris_model, name="p", serialization_format="cloudpickle")
    assert not loads_without_pandas(pickled)
    assert not loads_without_pandas(str(tmp_path / "missing"))


def test_the_serving_process_loads_the_model_without_pandas(tmp_path, iris, iris_model):
    path = _save(tmp_path, iris, iris_model)
    code = (
        "import sys\n"
        "from mltrail.models.serving.runner import build_app, ServeOptions\n"
        f"build_app({path!r}, ServeOptions())\n"
        "print('pandas' in sys.modules, sys.modules.get('pandas', 1) is None)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_matrix_path_predicts_what_predict_gives(tmp_path, iris, iris_model):
    features, _ = iris
    model = load_for_serving(_save(tmp_path, iris, iris_model))
    fast = matrix_path(model)
    assert fast is not None
    rows = features.head(5).to_numpy().tolist()
    block = fast.block({"dataframe_split": {"columns": list(features.columns), "data": rows}})
    assert block.shape == (5, 4)
    assert fast.predict(block).tolist() == model.predict(features.head(5)).tolist()
    legacy = fast.block({"columns": list(features.columns), "data": rows})
    assert np.array_equal(legacy, block)
    # Anything else goes the ordinary way (which validates and explains).
    assert (
        fast.block({"dataframe_split": {"columns": list(features.columns)[::-1], "data": rows}})
        is None
    )
    assert (
        fast.block({"dataframe_split": {"columns": list(features.columns), "data": [["x"] * 4]}})
        is None
    )
    assert (
        fast.block(
            {"dataframe_split": {"columns": list(features.columns), "data": rows}, "params": {}}
        )
        is None
    )
    assert (
        fast.block({"dataframe_records": [dict(zip(features.columns, rows[0], strict=True))]})
        is None
    )
    assert fast.block([1, 2]) is None


def test_no_matrix_path_without_a_float_signature(tmp_path, iris, iris_model):
    features, _ = iris
    path = tmp_path / "nosig"
    mltrail.sklearn.save_model(iris_model, path)
    assert matrix_path(load_for_serving(str(path))) is None
    ints = features.astype("int64")
    path = tmp_path / "ints"
    mltrail.sklearn.save_model(iris_model, path, signature=infer_signature(ints))
    assert matrix_path(load_for_serving(str(path))) is None


def test_only_measured_cheap_small_predictions_run_on_the_loop(tmp_path, iris, iris_model):
    from mltrail.models.serving.fast_path import INLINE_ROWS, MatrixPath

    features, _ = iris
    fast = matrix_path(load_for_serving(_save(tmp_path, iris, iris_model)))
    assert not fast.inline(1)  # nothing measured yet: a worker thread
    fast.predict(features.head(2).to_numpy())
    assert not fast.inline(INLINE_ROWS + 1)  # large blocks always go to a thread

    def slow(block):
        import time

        time.sleep(0.01)
        return block[:, 0]

    sluggish = MatrixPath(["a"], np.float64, slow)
    sluggish.predict(np.zeros((1, 1)))
    assert not sluggish.inline(1)
