"""mltrail's own reader of common skops files builds what skops builds, under the same trust,
and leaves everything else (other node kinds, untrusted types, old protocols) to skops."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

skops_io = pytest.importorskip("skops.io")
sklearn = pytest.importorskip("sklearn")

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from mltrail.sklearn import skops_reader  # noqa: E402
from mltrail.sklearn.skops_loader import import_skops_io, trusted_type_names  # noqa: E402


@pytest.fixture(scope="module")
def names():
    import_skops_io()  # writes the cache of trusted names when it is missing
    found = trusted_type_names()
    assert found is not None
    return found


def _same(a, b, path="model"):
    """Deep equality of two loaded objects, arrays included (dtype and values)."""
    assert type(a) is type(b), path
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), path
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            _same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        _same(vars(a), vars(b), path)
    else:
        assert a == b, path


ESTIMATORS = {
    "logistic": lambda: LogisticRegression(max_iter=500),
    "linear": LinearRegression,
    "ridge": Ridge,
    "pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
    "svc": lambda: SVC(random_state=0),
    "kmeans": lambda: KMeans(3, n_init=1, random_state=0),
}


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
@pytest.mark.parametrize("frame", [True, False], ids=["dataframe", "array"])
def test_reads_what_skops_reads(tmp_path, names, iris, kind, frame):
    features, target = iris
    x = features if frame else features.to_numpy()
    model = ESTIMATORS[kind]().fit(x, target)
    path = tmp_path / "model.skops"
    skops_io.dump(model, path)

    ours = skops_reader.read(str(path), names)
    assert ours is not skops_reader.UNREAD
    _same(ours, skops_io.load(path))
    np.testing.assert_array_equal(ours.predict(x), model.predict(x))


def test_shared_objects_stay_shared(tmp_path, names):
    shared = np.arange(3.0)
    path = tmp_path / "shared.skops"
    skops_io.dump({"a": shared, "b": shared, "c": [1, "x", None]}, path)
    loaded = skops_reader.read(str(path), names)
    assert loaded["a"] is loaded["b"]
    assert loaded["c"] == [1, "x", None]


def test_leaves_other_node_kinds_to_skops(tmp_path, names, iris):
    features, target = iris
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(features, target)
    path = tmp_path / "forest.skops"
    skops_io.dump(forest, path)  # trees are TreeNodes, whose type skops trusts only on request
    assert skops_reader.read(str(path), names, ["sklearn.tree._tree.Tree"]) is skops_reader.UNREAD


def _rewrite_schema(source, target, change):
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "schema.json":
                schema = json.loads(data)
                change(schema)
                data = json.dumps(schema).encode()
            dst.writestr(item, data)


def test_untrusted_types_are_never_imported_or_built(tmp_path, names, iris):
    features, target = iris
    good = tmp_path / "good.skops"
    skops_io.dump(LogisticRegression(max_iter=500).fit(features, target), good)
    bad = tmp_path / "bad.skops"

    def to_untrusted(schema):
        schema["__module__"], schema["__class__"] = "mltrail_evil_probe", "Boom"

    _rewrite_schema(good, bad, to_untrusted)
    assert skops_reader.read(str(bad), names) is skops_reader.UNREAD
    assert "mltrail_evil_probe" not in sys.modules
    # ...and the ordinary path (skops) then refuses it with the flavor's message.
    from mltrail.exceptions import MltrailException
    from mltrail.sklearn import _load_file

    with pytest.raises(MltrailException, match="untrusted types"):
        _load_file(str(bad), "skops", None)


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(protocol=1),
        lambda s: s.update(__loader__="FunctionNode"),
        lambda s: s["content"].update(__loader__="SetNode"),
        lambda s: s["content"].update(content=["not", "a", "dict"]),
    ],
    ids=["old-protocol", "unknown-kind", "nested-unknown-kind", "malformed"],
)
def test_anything_unexpected_goes_to_skops(tmp_path, names, iris, change):
    features, target = iris
    good = tmp_path / "good.skops"
    skops_io.dump(LogisticRegression(max_iter=500).fit(features, target), good)
    odd = tmp_path / "odd.skops"
    _rewrite_schema(good, odd, change)
    assert skops_reader.read(str(odd), names) is skops_reader.UNREAD


def test_not_a_skops_file(tmp_path, names):
    junk = tmp_path / "junk.skops"
    junk.write_bytes(b"not a zip")
    assert skops_reader.read(str(junk), names) is skops_reader.UNREAD
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    (tmp_path / "empty.skops").write_bytes(empty.getvalue())
    assert skops_reader.read(str(tmp_path / "empty.skops"), names) is skops_reader.UNREAD


def test_a_served_sklearn_model_loads_without_importing_skops(tmp_path, iris, names):
    import mltrail

    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)
    mltrail.sklearn.save_model(model, tmp_path / "m")
    code = (
        "import sys, mltrail.pyfunc as p\n"
        f"m = p.load_model({str(tmp_path / 'm')!r})\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] == 'skops'))\n"
        "print(list(m.predict([[5.1, 3.5, 1.4, 0.2]])))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1] == str([model.predict(features.head(1))[0]])
