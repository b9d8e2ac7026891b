"""Fixtures of the CLI tests (helpers live in ``cli_helpers.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from cli_helpers import CliRunner, Seeded, run_cli, seed


@pytest.fixture
def cli() -> CliRunner:
    return run_cli


@pytest.fixture
def seeded(sqlite_uri: str, tmp_path: Any) -> Seeded:
    return seed(sqlite_uri, tmp_path)
