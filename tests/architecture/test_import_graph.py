"""The layers of ``src/mltrail`` as a test: every import between subpackages, including the
ones inside functions, goes down the stack, so no two subpackages import each other.

A new subpackage must be given a layer here; a new upward import fails with the modules that
make it, so it can be turned around (pass what the lower layer needs, or register a hook).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mltrail"

# Bottom to top. A subpackage may import those on its own layer's left and below (a lower
# number); on one layer, only the order written allows an import. "mltrail" is the package's
# own __init__ (the fluent facade: ``import mltrail`` from inside the package).
LAYERS: list[tuple[str, ...]] = [
    ("version", "exceptions", "environment_variables", "lazy"),
    ("types", "entities", "utils", "companions"),
    ("search", "protocol"),
    ("store",),
    ("tracking",),
    ("artifacts", "data", "mltrail"),
    ("autologging", "environments", "models"),
    ("pyfunc",),
    ("sklearn", "pytorch", "xgboost", "lightgbm", "spark"),
    ("server",),
    ("serving",),
    ("projects",),
    ("cli", "__main__"),
]

# Modules that form a layer of their own, away from their folder: serving models (the scoring
# server, batch prediction, docker images) runs pyfunc models and reuses the server's security.
NODES = {
    "mltrail.models.serving": "serving",
    "mltrail.models.batch": "serving",
    "mltrail.models.docker": "serving",
}

# Known upward imports, each with its reason. Keep it short.
PENDING: dict[tuple[str, str], str] = {
    ("models", "serving"): "MLflow's mlflow.models.predict and build_docker live in "
    "mlflow.models; they import the serving layer only when called",
}


def _rank() -> dict[str, tuple[int, int]]:
    return {name: (i, j) for i, layer in enumerate(LAYERS) for j, name in enumerate(layer)}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _subpackage(module: str) -> str:
    for prefix, node in NODES.items():
        if module == prefix or module.startswith(prefix + "."):
            return node
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "mltrail"


def _is_module(dotted: str) -> bool:
    path = SRC.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path: Path) -> list[str]:
    """Every mltrail module ``path`` imports, at any depth of its code."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # ``from mltrail import search`` imports the submodule mltrail.search
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append(candidate if _is_module(candidate) else base)
    return [name for name in found if name == "mltrail" or name.startswith("mltrail.")]


@cache
def _edges() -> dict[tuple[str, str], set[str]]:
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        source = _subpackage(_module_name(path))
        for target in _imports(path):
            dest = _subpackage(target)
            if dest != source:
                edges[(source, dest)].add(f"{_module_name(path)} -> {target}")
    return edges


def test_every_subpackage_has_a_layer() -> None:
    present = {
        p.stem if p.suffix == ".py" else p.name
        for p in SRC.iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"
    } | {"mltrail"}
    assert present - set(_rank()) == set(), "give these subpackages a layer in LAYERS"


def test_imports_only_go_down() -> None:
    rank = _rank()
    upward = {
        edge: sorted(where)
        for edge, where in _edges().items()
        if edge not in PENDING
        and edge[0] in rank
        and edge[1] in rank
        and rank[edge[1]] > rank[edge[0]]
    }
    assert upward == {}


def test_no_cycles_between_subpackages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, dest in _edges():
        if (source, dest) not in PENDING:
            graph[source].add(dest)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    cycles = sorted(
        (a, b)
        for a, b in _edges()
        if (a, b) not in PENDING and reaches(b, a, set()) and reaches(a, b, set())
    )
    assert cycles == []


def test_the_layers_hold_for_the_known_knot() -> None:
    """The knot issue 8 found (artifacts -> tracking -> store -> search -> store) is gone:
    repositories live in store.artifact, search SQL in store.sql."""
    edges = _edges()
    assert ("search", "store") not in edges
    assert ("store", "tracking") not in edges
    assert ("store", "artifacts") not in edges


@pytest.mark.parametrize("upper", ["server", "cli", "projects"])
def test_nothing_below_imports_the_applications(upper: str) -> None:
    rank = _rank()
    below = [
        s for (s, d) in _edges() if d == upper and rank[s] < rank[upper] and (s, d) not in PENDING
    ]
    assert below == []


# The server's own tables (run leases, idempotency keys, the auth tables) and their SQL live
# under store/sql/; the one server module that still speaks SQLAlchemy is the user book of
# --auth, whose queries sit beside its password hashing and sign-in throttle.
SERVER_SIDE_STORES = ("mltrail.server.auth.store",)


def test_only_stores_import_sqlalchemy() -> None:
    """Driver errors are translated in store/sql/engine.py alone: the CLI, the API, the UI and
    the error handlers import nothing from SQLAlchemy."""
    offenders = []
    for path in SRC.rglob("*.py"):
        module = _module_name(path)
        if not module.startswith(("mltrail.server", "mltrail.cli")):
            continue
        if module.startswith(SERVER_SIDE_STORES):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{module}: {n}" for n in names if n.split(".")[0] == "sqlalchemy"]
    assert offenders == []
