"""The PyTorch flavor: whole modules (default and explicit pickle modules), LightningModules,
state dicts, pyfunc scoring, and models going both ways with MLflow."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.exceptions import InvalidParameter, MltrailException

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).random((5, 4)).astype(np.float32)


class TinyNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.linear(x)


def _expected(net):
    with torch.no_grad():
        return net(torch.from_numpy(X)).numpy()


def test_importing_the_flavor_does_not_import_torch():
    code = "import sys, mltrail; assert hasattr(mltrail, 'pytorch'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_save_load_and_pyfunc(tmp_path):
    net = TinyNet()
    mltrail.pytorch.save_model(net, tmp_path / "m", input_example=X[:2])
    assert (tmp_path / "m" / "data" / "model.pth").exists()
    info = (tmp_path / "m" / "data" / "pickle_module_info.txt").read_text()
    assert info == "mlflow.pytorch.pickle_module"
    loaded = mltrail.pytorch.load_model(str(tmp_path / "m"))
    assert np.allclose(_expected(loaded), _expected(net))
    model = mltrail.pyfunc.load_model(str(tmp_path / "m"))
    assert np.allclose(model.predict(X), _expected(net), atol=1e-6)
    sig = model.metadata.signature
    assert sig.inputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}
    ]
    with pytest.raises(InvalidParameter, match="Shape of input"):
        model.predict(np.ones((2, 3), dtype=np.float32))


def test_dataframe_input_gives_a_dataframe(tmp_path):
    net = TinyNet()
    mltrail.pytorch.save_model(net, tmp_path / "m")
    out = mltrail.pyfunc.load_model(str(tmp_path / "m")).predict(pd.DataFrame(X))
    assert isinstance(out, pd.DataFrame) and out.shape == (5, 2)


def test_float64_input_without_signature_is_cast_to_the_weights_dtype(tmp_path):
    # JSON numbers become float64 arrays; a float32 module must still score them.
    net = TinyNet()
    mltrail.pytorch.save_model(net, tmp_path / "m")
    model = mltrail.pyfunc.load_model(str(tmp_path / "m"))
    wide = X.astype(np.float64)
    assert np.allclose(model.predict(wide), _expected(net), atol=1e-6)
    assert np.allclose(model.predict(wide.tolist()), _expected(net), atol=1e-6)
    assert np.allclose(model.predict({"x": wide}), _expected(net), atol=1e-6)


def test_log_model_with_pickle_module_positional(tmp_path):
    net = TinyNet()
    with mltrail.start_run() as run:
        info = mltrail.pytorch.log_model(net, "my_model", pickle_module=pickle)
    assert mltrail.get_logged_model(info.model_id).status == "READY"
    loaded = mltrail.pytorch.load_model(f"runs:/{run.info.run_id}/my_model")
    assert np.allclose(_expected(loaded), _expected(net))


def test_state_dicts_load_weights_only(tmp_path):
    net = TinyNet()
    mltrail.pytorch.save_state_dict(net.state_dict(), str(tmp_path / "sd"))
    state = mltrail.pytorch.load_state_dict(str(tmp_path / "sd"))
    fresh = TinyNet()
    fresh.load_state_dict(state)
    assert np.allclose(_expected(fresh), _expected(net))
    with mltrail.start_run() as run:
        mltrail.pytorch.log_state_dict(net.state_dict(), "weights")
    again = mltrail.pytorch.load_state_dict(f"runs:/{run.info.run_id}/weights")
    assert set(again) == {"linear.weight", "linear.bias"}
    with pytest.raises(InvalidParameter, match="state dict"):
        mltrail.pytorch.save_model({"a": 1}, tmp_path / "bad")


def test_lightning_module_round_trip(tmp_path):
    lightning = pytest.importorskip("lightning")

    class LitNet(lightning.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def forward(self, x):
            return self.layer(x)

    net = LitNet()
    mltrail.pytorch.save_model(net, tmp_path / "lit")
    reqs = (tmp_path / "lit" / "requirements.txt").read_text()
    assert "lightning==" in reqs and "torch==" in reqs and "+cpu" not in reqs
    out = mltrail.pyfunc.load_model(str(tmp_path / "lit")).predict(X)
    assert out.shape == (5, 1)


def test_models_go_both_ways_with_mlflow(tmp_path):
    import mlflow.pyfunc
    import mlflow.pytorch

    net = TinyNet()
    mltrail.pytorch.save_model(net, tmp_path / "ours", input_example=X[:2])
    assert np.allclose(mlflow.pyfunc.load_model(str(tmp_path / "ours")).predict(X), _expected(net))
    assert np.allclose(_expected(mlflow.pytorch.load_model(str(tmp_path / "ours"))), _expected(net))
    mlflow.pytorch.save_model(net, str(tmp_path / "theirs_pt2"), input_example=X[:2])
    assert np.allclose(
        mltrail.pyfunc.load_model(str(tmp_path / "theirs_pt2")).predict(X), _expected(net)
    )
    mlflow.pytorch.save_model(net, str(tmp_path / "theirs_pkl"), serialization_format="pickle")
    loaded = mltrail.pytorch.load_model(str(tmp_path / "theirs_pkl"))
    assert np.allclose(_expected(loaded), _expected(net))


class _Custom:
    """Not a tensor nor a plain value: only full unpickling rebuilds it."""


def test_state_dicts_go_both_ways_with_mlflow_and_code_is_refused(tmp_path):
    import mlflow.pytorch

    net = TinyNet()
    mlflow.pytorch.save_state_dict(net.state_dict(), str(tmp_path / "theirs"))
    fresh = TinyNet()
    fresh.load_state_dict(mltrail.pytorch.load_state_dict(str(tmp_path / "theirs")))
    assert np.allclose(_expected(fresh), _expected(net))
    mltrail.pytorch.save_state_dict(net.state_dict(), str(tmp_path / "ours"))
    fresh = TinyNet()
    fresh.load_state_dict(mlflow.pytorch.load_state_dict(str(tmp_path / "ours")))
    assert np.allclose(_expected(fresh), _expected(net))
    # A checkpoint-style dict of tensors and plain values loads weights-only too.
    checkpoint = {"model": net.state_dict(), "epoch": 3, "lr": [0.1, 0.01]}
    mltrail.pytorch.save_state_dict(checkpoint, str(tmp_path / "ckpt"))
    assert mltrail.pytorch.load_state_dict(str(tmp_path / "ckpt"))["epoch"] == 3
    mltrail.pytorch.save_state_dict({"w": _Custom()}, str(tmp_path / "code"))
    with pytest.raises(MltrailException, match="weights_only=False"):
        mltrail.pytorch.load_state_dict(str(tmp_path / "code"))
    loaded = mltrail.pytorch.load_state_dict(str(tmp_path / "code"), weights_only=False)
    assert isinstance(loaded["w"], _Custom)
