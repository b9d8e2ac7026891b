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


_STATS_PROBE = """
import sys
from mltrail.models.serving.runner import build_app, ServeOptions
from starlette.testclient import TestClient

app = build_app({path!r}, ServeOptions(allowed_hosts=("testserver",)))
kind = lambda: type(sys.modules["scipy.stats"]).__name__
print(kind())
with TestClient(app) as client:
    body = {{"dataframe_split": {{"columns": {columns!r}, "data": {rows!r}}}}}
    answer = client.post("/invocations", json=body)
    print(answer.status_code, answer.json()["predictions"])
print(kind())
import scipy.stats
ranks = scipy.stats.rankdata([3, 1, 2]).tolist()  # any use brings the real module
print(kind(), ranks, scipy.stats is sys.modules["scipy.stats"])
"""


def _probe_stats(path, features):
    rows = features.head(3).to_numpy().tolist()
    code = _STATS_PROBE.format(path=path, columns=list(features.columns), rows=rows)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_scipy_stats_waits_until_a_prediction_needs_it(tmp_path, iris, iris_model):
    from sklearn.neighbors import KNeighborsClassifier

    features, target = iris
    # Logistic regression never uses scipy.stats: it is still not imported after a request.
    out = _probe_stats(_save(tmp_path, iris, iris_model), features)
    expected = iris_model.predict(features.head(3)).tolist()
    real_after = "module [3.0, 1.0, 2.0] True"
    assert out == ["_DeferredStats", f"200 {expected}", "_DeferredStats", real_after]
    # k-nearest neighbours votes with scipy.stats.mode: the real module arrives on that request.
    knn = KNeighborsClassifier(3).fit(features, target)
    path = tmp_path / "knn"
    trusted = [
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.neighbors._kd_tree.KDTree",
    ]
    signature = infer_signature(features, knn.predict(features))
    mltrail.sklearn.save_model(knn, path, signature=signature, skops_trusted_types=trusted)
    out = _probe_stats(str(path), features)
    expected = knn.predict(features.head(3)).tolist()
    assert out == ["_DeferredStats", f"200 {expected}", "module", real_after]


def test_deferring_is_a_no_op_once_scipy_stats_is_imported():
    import scipy.stats

    from mltrail.models.serving.deferred_stats import stats_deferred

    with stats_deferred():
        from scipy.stats import rankdata
    assert rankdata is scipy.stats.rankdata
    assert sys.modules["scipy.stats"] is scipy.stats
