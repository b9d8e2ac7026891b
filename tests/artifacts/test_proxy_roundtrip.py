"""Upload, list, download and delete through the live proxy with HttpArtifactRepository."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import requests

from mltrail.artifacts import get_artifact_repository
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.store.artifact.http import HttpArtifactRepository, resolve_proxied_uri
from mltrail.tracking.uri import set_tracking_uri


def make_tree(root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.json").write_text('{"b": 1}')
    (root / "sub" / "deeper" / "c.bin").write_bytes(os.urandom(3000))
    (root / "with space & hash#.txt").write_text("odd name")


def test_round_trip_through_the_proxy(proxy, tmp_path: Path) -> None:
    source = tmp_path / "src"
    make_tree(source)
    repo = get_artifact_repository("mlflow-artifacts:/1/run1/artifacts")
    assert isinstance(repo, HttpArtifactRepository)
    repo.log_artifacts(str(source), "model")
    repo.log_artifact(str(source / "a.txt"))

    stored = proxy.dest / "1" / "run1" / "artifacts"
    assert (stored / "model" / "sub" / "deeper" / "c.bin").read_bytes() == (
        source / "sub" / "deeper" / "c.bin"
    ).read_bytes()
    assert (stored / "model" / "with space & hash#.txt").read_text() == "odd name"

    top = repo.list_artifacts()
    assert [(f.path, f.is_dir, f.file_size) for f in top] == [
        ("a.txt", False, 5),
        ("model", True, None),
    ]
    assert [f.path for f in repo.list_artifacts("model/sub")] == [
        "model/sub/b.json",
        "model/sub/deeper",
    ]
    assert repo.list_artifacts("a.txt") == []
    assert repo.list_artifacts("missing") == []

    out = Path(repo.download_artifacts("model", str(tmp_path / "out")))
    for rel in ("a.txt", "sub/b.json", "sub/deeper/c.bin", "with space & hash#.txt"):
        assert (out / rel).read_bytes() == (source / rel).read_bytes()
    single = repo.download_artifacts("model/sub/b.json", str(tmp_path / "one"))
    assert Path(single).read_text() == '{"b": 1}'

    repo.delete_artifacts("model/sub")
    assert not (stored / "model" / "sub").exists()
    assert [f.path for f in repo.list_artifacts("model")] == [
        "model/a.txt",
        "model/with space & hash#.txt",
    ]
    with pytest.raises(NotFound):
        repo.download_artifacts("model/sub/b.json", str(tmp_path / "gone"))
    with pytest.raises(NotFound):
        repo.delete_artifacts("model/sub")


def test_downloads_are_attachments_that_are_not_sniffed(proxy) -> None:
    repo = get_artifact_repository("mlflow-artifacts:/x")
    page = proxy.dest / "page.html"
    page.write_text("<script>alert(1)</script>")
    repo.log_artifact(str(page))
    answer = requests.get(f"{proxy.url}/api/2.0/mlflow-artifacts/artifacts/x/page.html", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith("attachment")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Security-Policy"] == "sandbox"


def test_uploading_over_a_folder_or_to_the_root_fails_cleanly(proxy, tmp_path: Path) -> None:
    (proxy.dest / "folder").mkdir()
    url = f"{proxy.url}/api/2.0/mlflow-artifacts/artifacts"
    assert requests.put(f"{url}/folder", data=b"x", timeout=10).status_code == 400
    assert requests.put(f"{url}/", data=b"x", timeout=10).status_code == 400
    assert requests.delete(f"{url}/", timeout=10).status_code == 400
    assert (proxy.dest / "folder").is_dir()


def test_ui_get_artifact_serves_a_run_file(proxy, tmp_path: Path) -> None:
    store = proxy.server.app.state.store
    run = store.create_run("0", "tester", 0)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    note = tmp_path / "note.txt"
    note.write_text("hello run")
    get_artifact_repository(run.info.artifact_uri).log_artifact(str(note), "docs")
    answer = requests.get(
        f"{proxy.url}/get-artifact",
        params={"run_uuid": run.info.run_id, "path": "docs/note.txt"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.text == "hello run"
    assert "attachment" in answer.headers["Content-Disposition"]
    missing = requests.get(
        f"{proxy.url}/get-artifact", params={"run_id": "f" * 32, "path": "x"}, timeout=10
    )
    assert missing.status_code == 404


def test_multipart_upload_on_a_local_destination(proxy, tmp_path: Path) -> None:
    """MLflow's mpu protocol: create, PUT each part to its URL, complete; then abort."""
    base = f"{proxy.url}/api/2.0/mlflow-artifacts/mpu"
    blob = os.urandom(3 * 1024 * 1024 + 17)
    chunk = 1024 * 1024
    created = requests.post(
        f"{base}/create/exp/run", json={"path": "/home/me/big.bin", "num_parts": 4}, timeout=10
    ).json()
    parts = []
    for i, cred in enumerate(created["credentials"]):
        answer = requests.put(cred["url"], data=blob[i * chunk : (i + 1) * chunk], timeout=10)
        assert answer.status_code == 200
        parts.append({"part_number": cred["part_number"], "etag": answer.headers["ETag"]})
    assert [p["etag"] for p in parts][0].strip('"') == hashlib.md5(blob[:chunk]).hexdigest()
    body = {"path": "big.bin", "upload_id": created["upload_id"], "parts": parts[::-1]}
    assert requests.post(f"{base}/complete/exp/run", json=body, timeout=10).status_code == 200
    assert (proxy.dest / "exp" / "run" / "big.bin").read_bytes() == blob
    assert list((proxy.dest / ".upload-mpu").iterdir()) == []  # staged parts are gone

    again = requests.post(f"{base}/create/exp", json={"path": "c.bin"}, timeout=10).json()
    bad = {"path": "c.bin", "upload_id": again["upload_id"], "parts": [{"part_number": 1}]}
    answer = requests.post(f"{base}/complete/exp", json=bad, timeout=10)
    assert answer.status_code == 400 and "never uploaded" in answer.json()["message"]
    body = {"path": "c.bin", "upload_id": again["upload_id"]}
    assert requests.post(f"{base}/abort/exp", json=body, timeout=10).status_code == 200
    assert not (proxy.dest / "exp" / "c.bin").exists()
    listing = requests.get(f"{proxy.url}/api/2.0/mlflow-artifacts/artifacts", timeout=10).json()
    assert listing == {"files": [{"path": "exp", "is_dir": True}]}


def test_presigned_download_is_not_offered_for_a_folder(proxy) -> None:
    answer = requests.get(f"{proxy.url}/api/2.0/mlflow-artifacts/presigned/x", timeout=10)
    assert answer.status_code == 501
    assert answer.json()["message"].startswith("Multipart download is not supported")


def test_resolve_proxied_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    server = "https://track.example:8443/prefix"
    assert resolve_proxied_uri("mlflow-artifacts:/1/abc/artifacts", server) == (
        "https://track.example:8443/prefix/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts"
    )
    assert resolve_proxied_uri("mlflow-artifacts://other:9000/x/y", server) == (
        "https://other:9000/prefix/api/2.0/mlflow-artifacts/artifacts/x/y"
    )
    assert resolve_proxied_uri("mlflow-artifacts:/", server) == (
        "https://track.example:8443/prefix/api/2.0/mlflow-artifacts/artifacts"
    )
    with pytest.raises(InvalidParameter, match="tracking URI"):
        resolve_proxied_uri("mlflow-artifacts:/1", "sqlite:///x.db")
    # The user-facing repository picker fills in the current tracking URI.
    set_tracking_uri(server)
    try:
        repo = get_artifact_repository("mlflow-artifacts:/1/abc/artifacts")
        assert repo.artifact_uri == (
            "https://track.example:8443/prefix/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts"
        )
    finally:
        set_tracking_uri(None)
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", "sqlite:///x.db")
    with pytest.raises(InvalidParameter, match="tracking URI"):
        get_artifact_repository("mlflow-artifacts:/1")


def test_unreachable_proxy_is_one_clear_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from live_servers import free_port

    from mltrail.exceptions import StoreUnavailable

    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR", "0.01")
    port = free_port()
    repo = HttpArtifactRepository(f"http://127.0.0.1:{port}/api/2.0/mlflow-artifacts/artifacts/x")
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port}.*connection refused"):
        repo.log_artifact(str(f))


def test_an_upload_cut_off_midway_leaves_nothing_behind(proxy) -> None:
    import socket
    import time

    host, port = proxy.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"PUT /api/2.0/mlflow-artifacts/artifacts/cut/file.bin HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nContent-Length: 10485760\r\n\r\n" + os.urandom(3 * 1024 * 1024)
        )
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and list((proxy.dest / "cut").glob(".upload-*")):
        time.sleep(0.05)
    # The folder may not even exist (the server can see the hang-up before it makes it).
    cut = proxy.dest / "cut"
    assert not cut.exists() or list(cut.iterdir()) == []
