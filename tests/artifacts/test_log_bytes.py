"""``ArtifactRepository.log_bytes``: bytes stored as a file without a local copy first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mltrail.artifacts import get_artifact_repository
from mltrail.exceptions import InvalidParameter


def test_local_log_bytes_writes_in_place_and_replaces_whole_files(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    repo = get_artifact_repository(str(root))
    repo.log_bytes(b"first", "checkpoints/latest.pth")
    repo.log_bytes(memoryview(b"second, longer"), "checkpoints/latest.pth")
    repo.log_bytes(b"{}", "top.json")
    assert (root / "checkpoints" / "latest.pth").read_bytes() == b"second, longer"
    assert (root / "top.json").read_bytes() == b"{}"
    assert sorted(os.listdir(root / "checkpoints")) == ["latest.pth"]  # no temporary left
    assert [f.path for f in repo.list_artifacts("checkpoints")] == ["checkpoints/latest.pth"]


def test_log_bytes_needs_a_file_name_inside_the_root(tmp_path: Path) -> None:
    repo = get_artifact_repository(str(tmp_path / "artifacts"))
    for bad in ("", "../outside.txt"):
        with pytest.raises(InvalidParameter):
            repo.log_bytes(b"x", bad)
    assert not (tmp_path / "outside.txt").exists()
