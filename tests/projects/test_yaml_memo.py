"""Project and environment files parsed once per content (``environments.yaml_memo``): an
edited file is always read again, only JSON-exact results are kept, errors never are, and a
cached ``mltrail run`` needs neither PyYAML nor the tracking client."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from project_helpers import all_runs, child_env, write_project

from mltrail.environments import EnvironmentSpecError, load_python_env, yaml_memo
from mltrail.projects import ProjectSpecError, load_project
from mltrail.tracking.client import TrailClient


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "env-cache"
    monkeypatch.setenv("MLTRAIL_ENV_CACHE", str(cache))
    return cache


def memo_texts(cache: Path) -> list[str]:
    data = json.loads((cache / yaml_memo.MEMO_NAME).read_text())
    return [text for text, _ in data["entries"]]


def test_answers_as_pyyaml_does_and_remembers_the_text(own_cache: Path) -> None:
    text = "name: p\nentry_points:\n  main: {command: 'python x.py', parameters: {a: 1.5}}\n"
    assert yaml_memo.safe_load(text) == yaml.safe_load(text)
    assert memo_texts(own_cache) == [text]
    assert yaml_memo.safe_load(text) == yaml.safe_load(text)  # from the memo
    assert memo_texts(own_cache) == [text]


def test_an_entry_is_used_only_for_exactly_its_text(own_cache: Path) -> None:
    text = "a: 1\n"
    own_cache.mkdir(parents=True)
    (own_cache / yaml_memo.MEMO_NAME).write_text(
        json.dumps({"entries": [[text, {"a": "remembered"}]]}))
    assert yaml_memo.safe_load(text) == {"a": "remembered"}
    assert yaml_memo.safe_load("a: 1\n\n") == {"a": 1}  # one byte more: parsed
    assert yaml_memo.safe_load(" a: 1\n") == {"a": 1}


def test_edited_mlproject_is_read_again(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {
        "MLproject": "name: p\nentry_points:\n  main: {command: 'python one.py'}\n"})
    assert load_project(root).entry_point("main").command == "python one.py"
    assert load_project(root).entry_point("main").command == "python one.py"
    (root / "MLproject").write_text(
        "name: p\nentry_points:\n  main:\n    parameters: {n: {type: int, default: 3}}\n"
        "    command: 'python two.py {n}'\n")
    spec = load_project(root)
    assert spec.entry_point("main").command == "python two.py {n}"
    assert spec.entry_point("main").parameters["n"].default == 3
    (root / "MLproject").write_text("name: p\nentry_points:\n  main: {command: 'python one.py'}\n")
    assert load_project(root).entry_point("main").command == "python one.py"


def test_edited_python_env_yaml_is_read_again(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {
        "python_env.yaml": 'python: "3.11"\ndependencies:\n  - six\n'})
    first = load_python_env(root / "python_env.yaml")
    assert (first.python, first.dependencies) == ("3.11", ("six",))
    assert load_python_env(root / "python_env.yaml") == first
    (root / "python_env.yaml").write_text(
        'python: "3.12"\nbuild_dependencies: [pip]\ndependencies:\n  - six==1.16.0\n')
    edited = load_python_env(root / "python_env.yaml")
    assert (edited.python, edited.build_dependencies, edited.dependencies) == (
        "3.12", ("pip",), ("six==1.16.0",))


def test_results_json_would_change_are_not_kept(own_cache: Path) -> None:
    dated = "when: 2024-01-02\n"
    assert yaml_memo.safe_load(dated) == {"when": datetime.date(2024, 1, 2)}
    int_keys = "1: one\n"
    assert yaml_memo.safe_load(int_keys) == {1: "one"}
    assert not (own_cache / yaml_memo.MEMO_NAME).exists()
    # and asked again, still the real types
    assert yaml_memo.safe_load(dated) == {"when": datetime.date(2024, 1, 2)}
    assert yaml_memo.safe_load(int_keys) == {1: "one"}


def test_a_file_that_does_not_parse_fails_every_time(tmp_path: Path, own_cache: Path) -> None:
    root = write_project(tmp_path / "p", {"MLproject": "name: [unclosed\n"})
    for _ in range(2):
        with pytest.raises(ProjectSpecError, match="not valid YAML"):
            load_project(root)
    env_file = root / "python_env.yaml"
    env_file.write_text("dependencies: [unclosed\n")
    for _ in range(2):
        with pytest.raises(EnvironmentSpecError, match="not valid YAML"):
            load_python_env(env_file)
    assert not (own_cache / yaml_memo.MEMO_NAME).exists()
    (root / "MLproject").write_text("name: fixed\n")
    assert load_project(root).name == "fixed"


def test_a_damaged_memo_is_ignored_and_the_memo_stays_small(own_cache: Path) -> None:
    own_cache.mkdir(parents=True)
    memo = own_cache / yaml_memo.MEMO_NAME
    for damaged in ("not json", "[1, 2]", '{"entries": [["only one"], 7]}'):
        memo.write_text(damaged)
        assert yaml_memo.safe_load("k: v\n") == {"k": "v"}
    for i in range(yaml_memo.MAX_ENTRIES + 5):
        yaml_memo.safe_load(f"k: {i}\n")
    texts = memo_texts(own_cache)
    assert len(texts) == yaml_memo.MAX_ENTRIES
    assert texts[0] == f"k: {yaml_memo.MAX_ENTRIES + 4}\n"  # newest first, oldest dropped


PROJECT = {
    "MLproject": (
        "name: lean\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters: {n: {type: int, default: 1}}\n"
        "    command: \"python -c 'print(\\\"ran\\\", {n})'\"\n"
    ),
}


def test_a_repeated_run_loads_neither_pyyaml_nor_the_tracking_client(
    client: TrailClient, store: str, env_cache: Path, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "proj", PROJECT)
    code = (
        "import sys\n"
        "from mltrail.cli import main\n"
        "try:\n"
        f"    main(['run', {str(root)!r}, '-q'], prog_name='mltrail')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "loaded = [m for m in ('yaml', 'mltrail.tracking.client', 'mltrail.tracking.fluent')\n"
        "          if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    env = child_env(store, env_cache, tmp_path)
    outputs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert "LOADED ['yaml']" in outputs[0]  # the first run parses the MLproject
    assert "LOADED []" in outputs[1]
    runs = all_runs(client)
    assert [r.info.status for r in runs] == ["FINISHED", "FINISHED"]
    assert {r.data.params["n"] for r in runs} == {"1"}
