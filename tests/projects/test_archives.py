"""Projects packed as .zip / .tar.gz archives: unpacked into a fresh folder per run, entered
when they hold one folder, refused when a member would land outside."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from project_helpers import all_runs, only_run

from mltrail.tracking.client import TrailClient

MLPROJECT = (
    "name: packed\n"
    "entry_points:\n"
    "  main:\n"
    "    parameters: {word: {type: string, default: hi}}\n"
    "    command: \"python -c 'import sys; print(\\\"packed says\\\", sys.argv[1])' {word}\"\n"
)


def test_zip_holding_one_folder_runs(mltrail_run, client: TrailClient, tmp_path: Path) -> None:
    archive = tmp_path / "project-main.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("project-main/MLproject", MLPROJECT)
    done = mltrail_run(str(archive), "-P", "word=zipped")
    assert done.returncode == 0, done.stderr
    assert "packed says zipped" in done.stdout
    run = only_run(client)
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.source.name"] == str(archive)
    assert run.data.params == {"word": "zipped"}


def test_tar_gz_with_a_subdirectory(mltrail_run, client: TrailClient, tmp_path: Path) -> None:
    archive = tmp_path / "many.tar.gz"
    data = MLPROJECT.encode()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("examples/train/MLproject")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    done = mltrail_run(f"file://{archive}#examples/train")
    assert done.returncode == 0, done.stderr
    assert "packed says hi" in done.stdout
    run = only_run(client)
    assert run.data.tags["mlflow.source.name"] == f"{archive}#examples/train"


def test_member_outside_the_folder_is_refused(mltrail_run, client: TrailClient,
                                               tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("MLproject", MLPROJECT)
        zipped.writestr("../../escaped.txt", "no")
    done = mltrail_run(str(archive))
    assert done.returncode == 1
    assert "has a member outside its folder: '../../escaped.txt'" in done.stderr
    assert not (tmp_path.parent / "escaped.txt").exists()
    [run] = all_runs(client)
    assert run.info.status == "FAILED"


def test_archive_over_https_needs_trust(mltrail_run, tmp_path: Path) -> None:
    done = mltrail_run("https://example.invalid/project.zip")
    assert done.returncode == 1
    assert "pass --trust" in done.stderr.lower()
