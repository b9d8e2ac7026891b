"""``mltrail registry ...`` against a real SQLite store: register from a run, list, describe,
versions, aliases; tables by default, JSON with --json, one-sentence errors."""

from __future__ import annotations

from cli_helpers import assert_one_sentence_error


def _register(cli, seeded, i: int, name: str = "clf"):
    return cli(
        "registry", "register", "--run-id", seeded.run_ids[i], "--path", "plots", "-n", name,
        "--tag", f"run={i}", "--json", uri=seeded.uri,
    )  # fmt: skip


def test_register_list_describe_and_aliases(cli, seeded):
    first = _register(cli, seeded, 0)
    assert first.code == 0, first.stderr
    assert first.json()["version"] == "1" and first.json()["tags"] == {"run": "0"}
    second = cli(
        "registry", "register", "-m", f"runs:/{seeded.run_ids[1]}/plots", "-n", "clf",
        uri=seeded.uri,
    )  # fmt: skip
    assert second.code == 0, second.stderr
    assert "version 2 of model 'clf'" in second.stdout

    alias = cli("registry", "set-alias", "-n", "clf", "-a", "champion", "-v", "1", uri=seeded.uri)
    assert alias.code == 0 and "champion" in alias.stdout

    table = cli("registry", "list", uri=seeded.uri)
    assert table.code == 0, table.stderr
    header, _rule, row = table.stdout.splitlines()
    assert header.split("┃")[0].strip() == "Name"
    assert [cell.strip() for cell in row.split("│")[:2]] == ["clf", "2"]
    assert "champion→1" in row

    listed = cli("registry", "list", "--filter", "name LIKE 'cl%'", "--json", uri=seeded.uri)
    model = listed.json()["registered_models"][0]
    assert model["aliases"] == {"champion": "1"}
    assert [v["version"] for v in model["latest_versions"]] == ["2"]

    described = cli("registry", "describe", "-n", "clf", "--json", uri=seeded.uri).json()
    assert [v["version"] for v in described["versions"]] == ["2", "1"]
    assert described["versions"][1]["aliases"] == ["champion"]
    text = cli("registry", "describe", "-n", "clf", uri=seeded.uri).stdout
    assert "Registered model clf" in text and seeded.run_ids[0] in text

    versions = cli("registry", "versions", "-n", "clf", "--json", uri=seeded.uri).json()
    assert {v["run_id"] for v in versions["model_versions"]} == set(seeded.run_ids[:2])
    one = cli("registry", "describe-version", "-n", "clf", "-v", "1", uri=seeded.uri)
    assert one.code == 0 and "champion" in one.stdout

    gone = cli("registry", "delete-alias", "-n", "clf", "-a", "champion", uri=seeded.uri)
    assert gone.code == 0
    after = cli("registry", "describe", "-n", "clf", "--json", uri=seeded.uri).json()
    assert after["aliases"] == {}


def test_bad_input_is_one_sentence(cli, seeded):
    _register(cli, seeded, 0)
    reserved = cli("registry", "set-alias", "-n", "clf", "-a", "v1", "-v", "1", uri=seeded.uri)
    assert_one_sentence_error(reserved, contains="reserved")
    unknown = cli("registry", "describe", "-n", "nope", uri=seeded.uri)
    assert_one_sentence_error(unknown, contains="nope")
    escape = cli("registry", "register", "-m", "/etc", "-n", "clf", uri=seeded.uri)
    assert_one_sentence_error(escape, contains="source")
    neither = cli("registry", "register", "-n", "clf", uri=seeded.uri)
    assert_one_sentence_error(neither, code=2, contains="--model-uri")
    versions = cli("registry", "versions", "-n", "clf", "--json", uri=seeded.uri).json()
    assert [v["version"] for v in versions["model_versions"]] == ["1"]
