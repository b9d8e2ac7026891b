"""``mltrail artifacts ...`` on the local artifact store of a SQLite tracking store."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import assert_one_sentence_error


def test_list(cli, seeded):
    rid = seeded.run_ids[0]
    top = cli("artifacts", "list", "--run-id", rid, "--json", uri=seeded.uri).json()
    assert top == {"files": [{"path": "plots", "is_dir": True, "file_size": None}]}
    inner = cli(
        "artifacts", "list", "-r", rid, "--artifact-path", "plots", "--json", uri=seeded.uri
    ).json()
    assert inner == {"files": [{"path": "plots/curve.txt", "is_dir": False, "file_size": 12}]}
    table = cli("artifacts", "list", "-r", rid, "-a", "plots", uri=seeded.uri)
    assert "plots/curve.txt" in table.stdout
    assert "12 B" in table.stdout


def test_list_empty(cli, seeded):
    result = cli("artifacts", "list", "-r", seeded.run_ids[0], "-a", "nothing", uri=seeded.uri)
    assert result.code == 0
    assert result.stdout.strip() == "No artifacts found."


def test_download_by_run(cli, seeded, tmp_path):
    dst = tmp_path / "out"
    result = cli(
        "artifacts", "download", "-r", seeded.run_ids[0], "--dst-path", str(dst), uri=seeded.uri
    )
    assert result.code == 0, result.stderr
    assert Path(result.stdout.strip()) == dst
    assert (dst / "plots" / "curve.txt").read_text() == "0.1,0.2,0.3\n"
    one = cli(
        "artifacts",
        "download",
        "-r",
        seeded.run_ids[0],
        "-a",
        "plots/curve.txt",
        "-d",
        str(tmp_path / "one"),
        "--json",
        uri=seeded.uri,
    ).json()
    assert one == {"local_path": str(tmp_path / "one" / "curve.txt")}


def test_download_by_uri(cli, seeded, tmp_path):
    uri = f"runs:/{seeded.run_ids[1]}/plots"
    result = cli(
        "artifacts", "download", "--artifact-uri", uri, "-d", str(tmp_path / "d"), uri=seeded.uri
    )
    assert result.code == 0, result.stderr
    assert (Path(result.stdout.strip()) / "curve.txt").exists()


def test_download_needs_exactly_one_source(cli, seeded):
    neither = cli("artifacts", "download", uri=seeded.uri)
    assert_one_sentence_error(neither, code=2, contains="--run-id or --artifact-uri")
    both = cli("artifacts", "download", "-r", seeded.run_ids[0], "-u", "runs:/x/y", uri=seeded.uri)
    assert_one_sentence_error(both, code=2)


def test_download_missing_path(cli, seeded, tmp_path):
    result = cli(
        "artifacts",
        "download",
        "-r",
        seeded.run_ids[0],
        "-a",
        "nope",
        "-d",
        str(tmp_path / "x"),
        uri=seeded.uri,
    )
    assert_one_sentence_error(result, contains="nope")


def test_log_artifact(cli, seeded, tmp_path):
    rid = seeded.run_ids[2]
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x00" * 2048)
    result = cli(
        "artifacts",
        "log-artifact",
        "--local-file",
        str(model),
        "--run-id",
        rid,
        "--artifact-path",
        "models",
        uri=seeded.uri,
    )
    assert result.code == 0, result.stderr
    assert "models/model.bin" in result.stdout
    listed = cli("artifacts", "list", "-r", rid, "-a", "models", "--json", uri=seeded.uri).json()
    assert listed["files"] == [{"path": "models/model.bin", "is_dir": False, "file_size": 2048}]
    as_json = cli(
        "artifacts", "log-artifact", "-l", str(model), "-r", rid, "--json", uri=seeded.uri
    ).json()
    assert as_json == {"run_id": rid, "artifact_path": "model.bin"}


def test_log_artifact_escaping_the_root_is_refused(cli, seeded, tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("x")
    result = cli(
        "artifacts",
        "log-artifact",
        "-l",
        str(f),
        "-r",
        seeded.run_ids[0],
        "-a",
        "../../outside",
        uri=seeded.uri,
    )
    assert_one_sentence_error(result)


def test_log_missing_file_is_a_usage_error(cli, seeded, tmp_path):
    result = cli(
        "artifacts",
        "log-artifact",
        "-l",
        str(tmp_path / "absent"),
        "-r",
        seeded.run_ids[0],
        uri=seeded.uri,
    )
    assert_one_sentence_error(result, code=2, contains="does not exist")


def test_unknown_run(cli, seeded):
    result = cli("artifacts", "list", "-r", "ffffffffffffffffffffffffffffffff", uri=seeded.uri)
    assert_one_sentence_error(result, contains="not found")
