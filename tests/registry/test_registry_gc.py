"""``mltrail gc`` keeps deleted runs and logged models whose files a registered model
version still uses, and says which version; once the version is deleted they go."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail.cli import main
from mltrail.exceptions import NotFound
from mltrail.store.artifact import get_artifact_repository
from mltrail.store.sql.registry import SqlRegistryStore
from mltrail.store.sql.store import SqlStore


def test_gc_keeps_what_a_version_uses(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'mltrail.db'}"
    root = str(tmp_path / "artifacts")
    store, registry = SqlStore(db, root), SqlRegistryStore(db, root)
    run = store.create_run("0", "me", 0)
    model = store.create_logged_model("0", name="m", source_run_id=run.info.run_id)
    local = tmp_path / f"{uuid.uuid4().hex}.txt"
    local.write_text("weights")
    get_artifact_repository(run.info.artifact_uri).log_artifact(str(local), "model")
    registry.create_registered_model("churn")
    registry.create_model_version("churn", f"runs:/{run.info.run_id}/model", run.info.run_id)
    registry.create_model_version("churn", f"models:/{model.model_id}", model_id=model.model_id)
    store.delete_run(run.info.run_id)
    store.delete_logged_model(model.model_id)

    result = CliRunner().invoke(main, ["gc", "--backend-store-uri", db, "--json"])
    report = json.loads(result.output)
    assert report["runs"] == [] and report["logged_models"] == []
    assert any("model 'churn' version 1" in f for f in report["failures"])
    assert any("model 'churn' version 2" in f for f in report["failures"])
    assert store.get_run(run.info.run_id).info.lifecycle_stage == "deleted"  # still there
    assert Path(run.info.artifact_uri, "model", local.name).is_file()

    registry.delete_registered_model("churn")
    result = CliRunner().invoke(main, ["gc", "--backend-store-uri", db, "--json"])
    report = json.loads(result.output)
    assert report["runs"] == [run.info.run_id] and report["logged_models"] == [model.model_id]
    with pytest.raises(NotFound):
        store.get_run(run.info.run_id)
