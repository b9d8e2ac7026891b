from __future__ import annotations

import pytest

from mltrail.search.patterns import to_glob, to_like


@pytest.mark.parametrize(
    ("pattern", "like", "glob"),
    [
        ("a%", "a%", "a*"),
        ("_b_", "_b_", "?b?"),
        ("a\\%b", "a!%b", "a%b"),
        ("a\\_b", "a!_b", "a_b"),
        ("x!y", "x!!y", "x!y"),
        ("*?[", "*?[", "[*][?][[]"),
        ("a\\\\b", "a\\b", "a\\b"),
        ("end\\", "end\\", "end\\"),
        ("", "", ""),
    ],
)
def test_like_patterns_translate(pattern: str, like: str, glob: str) -> None:
    assert to_like(pattern) == like
    assert to_glob(pattern) == glob
