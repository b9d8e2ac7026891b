"""Differential cases: projects (``projects.run`` of a local MLproject folder, in the local
environment): the run it makes, the params and tags logged, the command line the program got,
and the errors for bad parameters, unknown entry points and failing commands.

The project's program is run by this test's Python (named in the MLproject), writes the
arguments it received to a file, and, in one case, logs to the run through the real ``mlflow``
package, as the seeds' ``train.py`` does."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from diff_harness import Ctx, case

_PROGRAM = """\
import json, os, sys
out = os.environ["DIFF_PROJECT_OUT"]
with open(out, "w") as f:
    json.dump({"argv": sys.argv[1:], "run_id": os.environ.get("MLFLOW_RUN_ID")}, f)
if os.environ.get("DIFF_PROJECT_LOG"):
    import mlflow
    with mlflow.start_run():
        mlflow.log_metric("from_project", 0.25)
        mlflow.log_param("inner", "yes")
sys.exit(int(os.environ.get("DIFF_PROJECT_EXIT", "0")))
"""


def _project(ctx: Ctx) -> Path:
    root = ctx.tmp / "project"
    root.mkdir()
    (root / "train.py").write_text(_PROGRAM)
    python = sys.executable
    (root / "MLproject").write_text(
        "name: diff-project\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters:\n"
        "      alpha: {type: float, default: 0.5}\n"
        "      epochs: {type: int, default: 3}\n"
        "      name: {type: string, default: plain}\n"
        f"    command: '{python} train.py --alpha {{alpha}} --epochs {{epochs}} --name {{name}}'\n"
        "  needs:\n"
        "    parameters:\n"
        "      required_value: float\n"
        f"    command: '{python} train.py {{required_value}}'\n"
    )
    return root


def _run(ctx: Ctx, parameters: dict[str, Any], entry_point: str = "main", **env: str) -> Any:
    """Run the project; what ``run`` gave, what the program received, every run stored."""
    root = _project(ctx)
    out = ctx.tmp / "out.json"
    with ctx.env(DIFF_PROJECT_OUT=str(out), MLFLOW_RUN_ID=None, **env):
        outcome = ctx.call(
            lambda: ctx.ml.projects.run(
                str(root),
                entry_point=entry_point,
                parameters=parameters,
                experiment_id=ctx.exp_id,
                env_manager="local",
                synchronous=True,
            ).run_id
        )
    received = json.loads(out.read_text()) if out.exists() else None
    runs = ctx.client.search_runs([ctx.exp_id])
    views = [ctx.run_view(r.info.run_id) for r in runs]
    return {"outcome": outcome, "program": ctx.norm(received), "runs": views}


@case(
    "projects_run_parameters",
    [
        ("defaults", {}),
        ("given", {"alpha": "0.1", "epochs": "7", "name": "xy"}),
        ("with_space", {"name": "x y"}),
        ("undeclared", {"extra_key": "v"}),
        ("shell_syntax", {"name": "1; touch pwned $(id) `id`"}),
        ("bad_int", {"epochs": "three"}),
        ("bad_float", {"alpha": "much"}),
    ],
    server=False,
    deliberate={
        "with_space": "project-params-logged-as-given",
        "shell_syntax": "project-params-logged-as-given",
        "bad_int": "project-param-types-checked",
        "bad_float": "project-param-types-checked",
    },
)
def projects_run_parameters(ctx: Ctx, parameters: dict[str, str]) -> Any:
    observed = _run(ctx, parameters)
    observed["pwned"] = (ctx.tmp / "project" / "pwned").exists()
    return observed


@case(
    "projects_entry_points",
    ["missing_required", "unknown_entry_point", "required_given"],
    server=False,
    deliberate={"missing_required": "clearer-error-codes",
                "unknown_entry_point": "clearer-error-codes"},
)  # fmt: skip
def projects_entry_points(ctx: Ctx, what: str) -> Any:
    if what == "unknown_entry_point":
        return _run(ctx, {}, entry_point="nope")
    if what == "missing_required":
        return _run(ctx, {}, entry_point="needs")
    return _run(ctx, {"required_value": "2.5"}, entry_point="needs")


@case("projects_failing_command", server=False)
def projects_failing_command(ctx: Ctx, _: Any) -> Any:
    observed = _run(ctx, {}, DIFF_PROJECT_EXIT="3")
    exceptions = ctx.ml.exceptions
    try:
        ctx.ml.projects.run(str(ctx.tmp / "project"), parameters={}, env_manager="local",
                            experiment_id=ctx.exp_id, synchronous=True)  # fmt: skip
    except exceptions.ExecutionException:
        observed["caught_as"] = "ExecutionException"
    return observed


@case("projects_code_logs_with_mlflow", server=False)
def projects_code_logs_with_mlflow(ctx: Ctx, _: Any) -> Any:
    """The program imports the real mlflow and joins the project's run, on the same store."""
    return _run(ctx, {"alpha": "0.2"}, DIFF_PROJECT_LOG="1")
