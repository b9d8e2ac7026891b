"""The MLproject spec and parameter handling: what is accepted, what is refused and how,
and the exact command line a template and values give."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from project_helpers import write_project

from mltrail.projects.errors import MissingEnvironmentFile, ProjectSpecError
from mltrail.projects.params import build_command, parse_param_list, resolve_parameters
from mltrail.projects.spec import load_project

SEED_MLPROJECT = """\
name: mnist-autolog-example
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      max_epochs: {type: int, default: 5}
      strategy: {type str, default: "None"}
      learning_rate: {type: float, default: 0.001}
      verbose: {type bool, default: True}
      data_file: path
    command: |
          python train.py \\
            --max_epochs {max_epochs} \\
            --strategy {strategy} \\
            --lr {learning_rate} --verbose {verbose} --data {data_file}
  other:
    command: "python other.py"
"""


def seed_project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", {
        "MLproject": SEED_MLPROJECT,
        "python_env.yaml": "python: '3.11'\ndependencies:\n  - -r requirements.txt\n",
        "requirements.txt": "six\n",
        "data.csv": "x\n1\n",
    })


def test_seed_slip_runs_with_a_warning_pointing_at_the_colon(tmp_path: Path) -> None:
    spec = load_project(seed_project(tmp_path))
    assert spec.env_type == "python_env" and spec.name == "mnist-autolog-example"
    strategy = spec.entry_points["main"].parameters["strategy"]
    assert (strategy.type, strategy.default, strategy.required) == ("string", "None", False)
    slip = [w for w in spec.warnings if "'strategy'" in w]
    assert slip and "missing a colon after 'type'" in slip[0] and "type: str" in slip[0]
    # `{type bool, ...}`: the slip plus an unknown type, still a string
    verbose = spec.entry_points["main"].parameters["verbose"]
    assert (verbose.type, verbose.default) == ("string", True)
    # the shorthand `data_file: path` is a required path
    data = spec.entry_points["main"].parameters["data_file"]
    assert (data.type, data.required) == ("path", True)


def test_parameters_are_typed_quoted_and_paths_absolute(tmp_path: Path) -> None:
    root = seed_project(tmp_path)
    spec = load_project(root)
    entry = spec.entry_points["main"]
    resolved = resolve_parameters(
        entry, {"learning_rate": "0.5", "data_file": "proj/data.csv", "extra": "a b"},
        root, cwd=str(tmp_path),
    )
    command = build_command(entry, resolved)
    words = shlex.split(command)
    assert words[words.index("--data") + 1] == str(root / "data.csv")
    assert words[words.index("--lr") + 1] == "0.5"
    assert words[-2:] == ["--extra", "a b"]
    # logged as the user gave them
    assert resolved.logged["data_file"] == "proj/data.csv"
    assert resolved.logged["max_epochs"] == "5" and resolved.logged["extra"] == "a b"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"data_file": "proj/data.csv", "max_epochs": "1.5"}, "must be an int, got '1.5'"),
        ({"data_file": "proj/data.csv", "learning_rate": "fast"}, "must be a float"),
        ({"data_file": "nope.csv"}, "does not exist"),
        ({}, "No value given for the required parameter(s) 'data_file'"),
        ({"data_file": "proj/data.csv", "bad;key": "1"}, "Invalid parameter name 'bad;key'"),
        ({"data_file": "proj/data.csv", "-rf": "1"}, "Invalid parameter name '-rf'"),
    ],
)
def test_bad_values_are_refused_before_anything_runs(
    tmp_path: Path, given: dict[str, str], message: str
) -> None:
    root = seed_project(tmp_path)
    entry = load_project(root).entry_points["main"]
    with pytest.raises(ProjectSpecError) as info:
        resolve_parameters(entry, given, root, cwd=str(tmp_path))
    assert message in str(info.value)


def test_path_default_outside_the_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("x")
    root = write_project(tmp_path / "proj", {"MLproject": (
        "entry_points:\n  main:\n    parameters:\n      p: {type: path, default: ../secret.txt}\n"
        "      q: {type: path, default: 'file:///etc/passwd'}\n"
        "    command: cat {p}\n")})
    entry = load_project(root).entry_points["main"]
    with pytest.raises(ProjectSpecError, match="points outside the project folder"):
        resolve_parameters(entry, {"q": "x.txt"} | {}, root, cwd=str(root))
    (root / "x.txt").write_text("x")
    with pytest.raises(ProjectSpecError, match="a file:// URI"):
        resolve_parameters(entry, {"p": "x.txt"}, root, cwd=str(root))


def test_uri_parameters_need_a_scheme(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"MLproject": (
        "entry_points:\n  main:\n    parameters:\n      u: uri\n    command: echo {u}\n")})
    entry = load_project(root).entry_points["main"]
    with pytest.raises(ProjectSpecError, match="must be a URI with a scheme"):
        resolve_parameters(entry, {"u": "notauri"}, root)
    assert resolve_parameters(entry, {"u": "s3://b/k"}, root).values["u"] == "s3://b/k"


def test_template_braces_and_undeclared_placeholders(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"MLproject": (
        "entry_points:\n"
        "  main:\n    parameters: {a: {default: 1}}\n"
        "    command: 'python -c \"print({{1: 2}})\" {a}'\n"
        "  bad:\n    command: echo {b}\n"
        "  attr:\n    parameters: {a: {default: 1}}\n    command: echo {a.__class__}\n")})
    spec = load_project(root)
    main = spec.entry_points["main"]
    assert build_command(main, resolve_parameters(main, {}, root)) == (
        'python -c "print({1: 2})" 1')
    for name in ("bad", "attr"):
        entry = spec.entry_points[name]
        with pytest.raises(ProjectSpecError, match="not one of its declared parameters"):
            build_command(entry, resolve_parameters(entry, {}, root))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("entry_points: [oops", "is not valid YAML at line"),
        ("python_env: a.yaml\nconda_env: b.yaml\n", "names several environments"),
        ("entry_points:\n  main:\n    parameters: {}\n", "has no 'command'"),
        ("docker_env: {volumes: [a]}\n", "docker_env needs an 'image'"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_malformed_mlproject_files(tmp_path: Path, text: str, message: str) -> None:
    root = write_project(tmp_path / "p", {"MLproject": text, "a.yaml": "", "b.yaml": ""})
    with pytest.raises(ProjectSpecError) as info:
        load_project(root)
    assert message in str(info.value)


def test_missing_environment_file_and_unknown_entry_point(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"MLproject": "python_env: nope.yaml\n"})
    with pytest.raises(MissingEnvironmentFile, match="nope.yaml"):
        load_project(root)
    root = write_project(tmp_path / "q", {"MLproject": "entry_points: {main: echo hi}\n",
                                          "run.sh": "echo hi\n"})
    spec = load_project(root)
    with pytest.raises(ProjectSpecError, match="Unknown entry point 'nosuch'.*main"):
        spec.entry_point("nosuch")
    assert spec.entry_point("run.sh").command == "bash run.sh"


def test_param_list_parsing() -> None:
    assert parse_param_list(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ProjectSpecError, match="name=value"):
        parse_param_list(["novalue"])
    with pytest.raises(ProjectSpecError, match="given twice"):
        parse_param_list(["a=1", "a=2"])


def test_remote_path_values_are_downloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from mltrail.tracking.client import TrailClient

    store = "sqlite:///" + str(tmp_path / "s.db")
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", store)
    client = TrailClient(store)
    run = client.create_run("0")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    client.log_artifact(run.info.run_id, str(tmp_path / "data.csv"), "inputs")
    root = write_project(tmp_path / "p", {"MLproject": (
        "entry_points:\n  main:\n    parameters: {data: path}\n    command: cat {data}\n")})
    entry = load_project(root).entry_points["main"]
    resolved = resolve_parameters(entry, {"data": f"runs:/{run.info.run_id}/inputs/data.csv"},
                                  root, storage_dir=str(tmp_path / "storage"))
    local = Path(resolved.values["data"])
    assert local.read_text() == "a,b\n1,2\n"
    assert str(local).startswith(str(tmp_path / "storage" / "param_data"))
    assert resolved.logged["data"].startswith("runs:/")
    with pytest.raises(ProjectSpecError, match="could not download"):
        resolve_parameters(entry, {"data": f"runs:/{run.info.run_id}/nope.csv"}, root,
                           storage_dir=str(tmp_path / "storage"))
    with pytest.raises(ProjectSpecError, match="Cannot download gs://b/k"):
        resolve_parameters(entry, {"data": "gs://b/k"}, root)


def test_network_sources_run_only_when_trusted() -> None:
    from mltrail.projects.errors import UntrustedSource
    from mltrail.projects.sources import confirm_trust, is_network_uri

    asked: list[str] = []

    def answer(value: bool):  # type: ignore[no-untyped-def]
        def ask(uri: str) -> bool:
            asked.append(uri)
            return value
        return ask

    uri = "https://git.invalid/org/repo.git"
    confirm_trust(uri, trust=False, ask=answer(True))
    with pytest.raises(UntrustedSource, match="not confirmed"):
        confirm_trust(uri, trust=False, ask=answer(False))
    confirm_trust(uri, trust=True, ask=answer(False))  # the flag: nobody is asked
    confirm_trust("file:///srv/repo", trust=False, ask=answer(False))
    assert asked == [uri, uri]
    assert all(map(is_network_uri, ["git@github.com:o/r.git", "ssh://h/r", "git://h/r"]))
    assert not any(map(is_network_uri, ["./proj", "file:///r", "/abs/path"]))
