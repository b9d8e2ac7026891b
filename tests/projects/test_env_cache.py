"""The environment cache: what invalidates it (the requirement files' content), and what the
cached path does not do (run uv, or re-read mltrail's installed metadata)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from project_helpers import write_project

from mltrail.environments import EnvironmentBuildError, build_python_env, load_python_env
from mltrail.environments.self_install import self_install, self_install_key


def six_project(root: Path, requirements: str) -> Path:
    write_project(root, {
        "python_env.yaml": "dependencies:\n  - -r requirements.txt\n",
        "requirements.txt": requirements,
    })
    return root / "python_env.yaml"


def test_editing_requirements_txt_builds_a_new_environment(tmp_path: Path) -> None:
    cache = tmp_path / "envs"
    spec_file = six_project(tmp_path / "p", "six\n")
    first = build_python_env(load_python_env(spec_file), install_mltrail=False,
                             cache_dir=cache, quiet=True)
    again = build_python_env(load_python_env(spec_file), install_mltrail=False,
                             cache_dir=cache, quiet=True)
    assert not first.cached and again.cached and again.env_dir == first.env_dir

    # python_env.yaml is unchanged; only the file it names is edited
    (tmp_path / "p" / "requirements.txt").write_text("six>=1.10\n")
    edited = build_python_env(load_python_env(spec_file), install_mltrail=False,
                              cache_dir=cache, quiet=True)
    assert not edited.cached and edited.env_dir != first.env_dir
    assert (edited.env_dir / ".mltrail-ready").exists()
    # the same project copied elsewhere shares the cache (files are hashed by relative name)
    copy = six_project(tmp_path / "elsewhere", "six>=1.10\n")
    shared = build_python_env(load_python_env(copy), install_mltrail=False,
                              cache_dir=cache, quiet=True)
    assert shared.cached and shared.env_dir == edited.env_dir


def test_a_cached_environment_needs_no_installer(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "envs"
    spec_file = six_project(tmp_path / "p", "six\n")
    built = build_python_env(load_python_env(spec_file), cache_dir=cache, quiet=True)
    assert not built.cached
    # Without uv (and without anything on PATH) only the cached path can succeed.
    monkeypatch.setenv("MLTRAIL_UV", str(tmp_path / "no-uv-here"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    cached = build_python_env(load_python_env(spec_file), cache_dir=cache, quiet=True)
    assert cached.cached and cached.python == built.python
    # and a spec not built yet does need it: the error names uv
    (tmp_path / "p" / "requirements.txt").write_text("six>=1.10\n")
    with pytest.raises(EnvironmentBuildError, match="no-uv-here"):
        build_python_env(load_python_env(spec_file), cache_dir=cache, quiet=True)


def test_self_install_key_is_remembered_and_rechecked(tmp_path: Path) -> None:
    cache = tmp_path / "envs"
    expected = self_install(cache).cache_key
    assert self_install_key(cache) == expected
    memo_path = cache / "wheels" / "self-install.json"
    memo = json.loads(memo_path.read_text())
    assert memo["key"] == expected and Path(memo["record"]).name == "RECORD"
    assert self_install_key(cache) == expected  # from the memo

    # A reinstall rewrites RECORD: a memo whose stat no longer matches is not trusted.
    memo["stat"] = [0, 0]
    memo["key"] = "a key from an older install"
    memo_path.write_text(json.dumps(memo))
    assert self_install_key(cache) == expected
    assert json.loads(memo_path.read_text())["key"] == expected
    memo_path.write_text("not json")
    assert self_install_key(cache) == expected
