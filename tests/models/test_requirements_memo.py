"""Requirement inference remembers the import-name -> distribution map until sys.path changes."""

from __future__ import annotations

import os
import sys

from mltrail.models import environment


def test_inferred_requirements_pin_installed_versions() -> None:
    import numpy

    lines = environment.infer_requirements(packages=["numpy", "json"])
    assert lines == [f"numpy=={numpy.__version__.split('+')[0]}"]


def test_a_new_package_on_sys_path_is_seen(tmp_path, monkeypatch) -> None:
    environment.infer_requirements(packages=["numpy"])  # fills the memo
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    assert environment.infer_requirements(packages=["freshpkg"]) == []

    # "install" a distribution into that folder: its mtime changes, so the memo is refreshed
    dist = site / "freshpkg-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: freshpkg\nVersion: 1.2.3\n")
    (dist / "top_level.txt").write_text("freshpkg\n")
    (site / "freshpkg").mkdir()
    (site / "freshpkg" / "__init__.py").write_text("")
    os.utime(site, ns=(os.stat(site).st_atime_ns, os.stat(site).st_mtime_ns + 10**9))
    assert str(site) in sys.path
    assert environment.infer_requirements(packages=["freshpkg"]) == ["freshpkg==1.2.3"]
