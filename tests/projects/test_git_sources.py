"""Git sources: a local repository at a tag and in a subdirectory (cloned into the cache,
the commit recorded), a repository that does not exist, and network URIs that need trust."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from project_helpers import all_runs, only_run, write_project

from mltrail.tracking.client import TrailClient


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True, env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                                           "GIT_COMMITTER_NAME": "t",
                                           "GIT_COMMITTER_EMAIL": "t@x", "HOME": str(repo)})
    return done.stdout.strip()


def make_repo(tmp_path: Path) -> tuple[Path, str, str]:
    repo = tmp_path / "repo"
    write_project(repo / "sub", {
        "MLproject": "entry_points:\n  main:\n    parameters: {out: string}\n"
                     "    command: python show.py {out}\n",
        "show.py": "import json, sys\njson.dump(open('version.txt').read().strip(), "
                   "open(sys.argv[1], 'w'))\n",
        "version.txt": "one\n",
    })
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "tag", "v1")
    first = git(repo, "rev-parse", "HEAD")
    (repo / "sub" / "version.txt").write_text("two\n")
    git(repo, "commit", "-q", "-am", "two")
    second = git(repo, "rev-parse", "HEAD")
    return repo, first, second


def test_local_repository_at_a_tag_and_subdirectory(mltrail_run, client: TrailClient,
                                                    tmp_path: Path) -> None:
    repo, first, second = make_repo(tmp_path)
    out = tmp_path / "out.json"
    done = mltrail_run(f"file://{repo}#sub", "--version", "v1", "-P", f"out={out}")
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == "one"
    run = only_run(client)
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == first
    assert tags["mlflow.source.name"] == f"file://{repo}#sub"
    assert tags["mltrail.project.version"] == "v1"
    # the repository was mirrored into the cache; the next run fetches into it
    assert list((tmp_path / "project-cache" / "repos").glob("*.git"))

    done = mltrail_run(f"file://{repo}#sub", "-v", "main", "-P", f"out={out}")
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == "two"
    newest = [r for r in all_runs(client) if r.info.run_id != run.info.run_id][0]
    assert newest.data.tags["mlflow.source.git.commit"] == second
    assert newest.data.tags["mlflow.source.git.branch"] == "main"


def test_local_git_folder_runs_in_place_with_its_commit(mltrail_run, client: TrailClient,
                                                        tmp_path: Path) -> None:
    repo, _, second = make_repo(tmp_path)
    out = tmp_path / "out.json"
    done = mltrail_run(str(repo / "sub"), "-P", f"out={out}")
    assert done.returncode == 0, done.stderr
    tags = only_run(client).data.tags
    assert tags["mlflow.source.git.commit"] == second
    assert tags["mlflow.source.git.branch"] == "main"


def test_missing_repository_or_version_fails_clearly(mltrail_run, client: TrailClient,
                                                     tmp_path: Path) -> None:
    done = mltrail_run(f"file://{tmp_path}/nope", "--experiment-name", "e")
    assert done.returncode == 1 and "does not exist" in done.stderr
    repo, _, _ = make_repo(tmp_path)
    done = mltrail_run(f"file://{repo}#sub", "-v", "v9", "--experiment-name", "e")
    assert done.returncode == 1
    assert "'v9' is not a branch, tag or commit" in done.stderr
    assert "Traceback" not in done.stderr
    runs = all_runs(client, "e")
    assert runs and all(r.info.status == "FAILED" for r in runs)
    done = mltrail_run(f"file://{repo}#../etc")
    assert done.returncode == 1 and "Invalid subdirectory" in done.stderr


def test_network_sources_need_trust_without_a_terminal(mltrail_run, client: TrailClient,
                                                       tmp_path: Path) -> None:
    for uri in ("https://git.invalid/org/repo.git", "git@git.invalid:org/repo.git",
                "ssh://git.invalid/org/repo.git"):
        done = mltrail_run(uri, "--experiment-name", "net")
        assert done.returncode == 1, done.stderr
        assert "--trust" in done.stderr and "no terminal" in done.stderr
    assert all_runs(client, "net") == []
    assert not (tmp_path / "project-cache").exists()  # nothing was fetched
