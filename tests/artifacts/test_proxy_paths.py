"""Path-traversal attack matrix against the live proxy: every spelling of "leave the root" gets
400 INVALID_PARAMETER_VALUE, and nothing outside the destination is read, written or deleted.

Requests go through ``http.client`` so that paths reach the server byte for byte (requests and
httpx would normalise ``..`` away before sending)."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest

BASE = "/api/2.0/mlflow-artifacts/artifacts"


def raw(url: str, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, target, body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def attack_paths(outside: Path) -> list[str]:
    secret = str(outside / "secret.txt")
    return [
        "../outside/secret.txt",
        "a/../../outside/secret.txt",
        "%2e%2e/outside/secret.txt",
        "%2E%2E%2Foutside%2Fsecret.txt",
        "a/%2e%2e/%2e%2e/outside/secret.txt",
        "%252e%252e/outside/secret.txt",
        "%252e%252e%252foutside%252fsecret.txt",
        "%25252e%25252e/outside/secret.txt",
        "/" + secret.lstrip("/"),
        "%2F" + quote(secret.lstrip("/")),
        "..%5Coutside%5Csecret.txt",
        "..%255Coutside%255Csecret.txt",
        "C:%5Cwindows%5Cwin.ini",
        "C:/windows/win.ini",
        "a%00b",
        "..",
        "%2e%2e",
        "%EF%BC%8E%EF%BC%8E/outside/secret.txt",  # fullwidth dots, NFKC-folded to ".."
        ".upload-abc",
    ]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else b"")
        for p in sorted(folder.rglob("*"))
    }


def assert_invalid_path(status: int, body: bytes) -> None:
    assert status == 400, body
    answer = json.loads(body)
    assert answer["error_code"] == "INVALID_PARAMETER_VALUE"
    assert answer["message"].startswith("Invalid path")


def test_traversal_matrix_is_refused_without_side_effects(proxy, outside: Path) -> None:
    (proxy.dest / "a").mkdir()
    (proxy.dest / "a" / "kept.txt").write_text("keep me")
    before_out, before_dest = snapshot(outside.parent / "outside"), snapshot(proxy.dest)
    for path in attack_paths(outside):
        for method, body in (("GET", None), ("PUT", b"pwned"), ("DELETE", None)):
            status, answer = raw(proxy.url, method, f"{BASE}/{path}", body)
            assert_invalid_path(status, answer)
        status, answer = raw(proxy.url, "GET", f"{BASE}?path={path}")
        assert_invalid_path(status, answer)
        for action in ("create", "complete", "abort"):
            payload = json.dumps({"path": "f.bin", "upload_id": "0" * 32, "parts": []}).encode()
            status, answer = raw(
                proxy.url, "POST", f"/api/2.0/mlflow-artifacts/mpu/{action}/{path}", payload
            )
            assert_invalid_path(status, answer)
    assert snapshot(outside) == before_out
    assert snapshot(proxy.dest) == before_dest


def test_multipart_file_name_cannot_climb(proxy, outside: Path) -> None:
    for name in ("..", "a/..", "..\\", "%2e%2e"):
        payload = json.dumps({"path": name, "num_parts": 1}).encode()
        status, answer = raw(proxy.url, "POST", "/api/2.0/mlflow-artifacts/mpu/create/x", payload)
        assert status == 400, (name, answer)
    assert not list(proxy.dest.iterdir())


def test_symlinks_inside_the_destination_never_lead_out(proxy, outside: Path) -> None:
    os.symlink(outside, proxy.dest / "link")
    os.symlink(outside / "secret.txt", proxy.dest / "file-link")
    before = snapshot(outside)
    for target in ("link/secret.txt", "file-link", "link/new.txt", "link/sub/new.txt", "link"):
        for method, body in (("GET", None), ("PUT", b"pwned"), ("DELETE", None)):
            status, answer = raw(proxy.url, method, f"{BASE}/{target}", body)
            assert status == 400, (method, target, answer)
            assert json.loads(answer)["error_code"] == "INVALID_PARAMETER_VALUE"
    status, answer = raw(proxy.url, "GET", f"{BASE}?path=link")
    assert status == 400, answer
    assert snapshot(outside) == before
    assert (outside / "secret.txt").read_text() == "top secret"


def test_ui_get_artifact_refuses_traversal(proxy, outside: Path) -> None:
    store = proxy.server.app.state.store
    run = store.create_run("0", "tester", 0)
    for path in ("../../../outside/secret.txt", "%2e%2e/%2e%2e/x", "/etc/passwd"):
        status, answer = raw(
            proxy.url, "GET", f"/get-artifact?run_uuid={run.info.run_id}&path={quote(path)}"
        )
        assert_invalid_path(status, answer)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_serving_disabled_answers_503_plain_text(tmp_path: Path, method: str) -> None:
    from live_servers import ThreadServer, settings_for

    server = ThreadServer(
        settings_for(tmp_path, str(tmp_path / "dest"), serve_artifacts=False)
    ).start()
    try:
        status, body = raw(
            server.url, method, f"{BASE}/x.txt", b"data" if method == "PUT" else None
        )
    finally:
        server.stop()
    assert status == 503
    assert b"serve-artifacts" in body
    assert not (tmp_path / "dest").exists()


def test_get_artifact_reads_only_storage_the_server_was_given(tmp_path: Path, outside) -> None:
    """An experiment created with artifact_location pointing elsewhere (the classic LFI chain)
    cannot make /get-artifact read that place; the configured root is served."""
    from live_servers import ThreadServer, settings_for

    root = tmp_path / "root"
    settings = settings_for(
        tmp_path, str(tmp_path / "dest"), serve_artifacts=False, default_artifact_root=str(root)
    )
    server = ThreadServer(settings).start()
    try:
        store = server.app.state.store
        mine = store.create_run("0", "u", 0)
        folder = Path(mine.info.artifact_uri)
        folder.mkdir(parents=True)
        (folder / "ok.txt").write_text("served")
        target = f"/get-artifact?run_uuid={mine.info.run_id}&path=ok.txt"
        assert raw(server.url, "GET", target) == (200, b"served")

        evil_exp = store.create_experiment("evil", artifact_location=str(outside))
        evil = store.create_run(evil_exp, "u", 0)
        os.makedirs(evil.info.artifact_uri)
        Path(evil.info.artifact_uri, "secret.txt").write_text("top secret")
        status, body = raw(
            server.url, "GET", f"/get-artifact?run_uuid={evil.info.run_id}&path=secret.txt"
        )
        assert status == 400 and b"not stored by this server" in body
    finally:
        server.stop()
