"""Every registered scenario, under MLflow and under mltrail: the observations must match,
except for the differences documented in docs/compatibility.md (which must still differ)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from diff_harness import CASES, Case, Impl, differences

for _module in sorted(p.stem for p in Path(__file__).parent.glob("diff_cases_*.py")):
    importlib.import_module(_module)

COMPAT_DOC = Path(__file__).parents[2] / "docs" / "compatibility.md"


def _mlflow_observation(
    c: Case, mlflow_impl: Impl, observations: dict[str, Any], observe: Any
) -> Any:
    if c.id not in observations:
        observations[c.id] = observe(mlflow_impl, c)
    return observations[c.id]


def _check(c: Case, expected: Any, got: Any, deliberate: str | None) -> None:
    found = differences(expected, got)
    if deliberate:
        anchors = set(re.findall(r'<a id="([\w-]+)"', COMPAT_DOC.read_text()))
        assert deliberate in anchors, f"docs/compatibility.md must explain #{deliberate}"
        assert found, f"{c.id} now behaves as MLflow: drop its documented difference #{deliberate}"
        return
    assert not found, "\n".join([f"{c.id} differs from MLflow:", *found])


@pytest.mark.parametrize("case_id", [k for k, c in CASES.items() if c.in_process])
def test_mltrail_as_mlflow(
    case_id: str,
    mlflow_impl: Impl,
    mltrail_impl: Impl,
    mlflow_observations: dict[str, Any],
    observe: Any,
) -> None:
    c = CASES[case_id]
    expected = _mlflow_observation(c, mlflow_impl, mlflow_observations, observe)
    _check(c, expected, observe(mltrail_impl, c), c.deliberate)


@pytest.mark.parametrize("case_id", [k for k, c in CASES.items() if c.server])
def test_mlflow_client_on_mltrail_server(
    case_id: str,
    mlflow_impl: Impl,
    server_impl: Impl,
    mlflow_observations: dict[str, Any],
    observe: Any,
) -> None:
    c = CASES[case_id]
    expected = _mlflow_observation(c, mlflow_impl, mlflow_observations, observe)
    _check(c, expected, observe(server_impl, c), c.server_deliberate)
