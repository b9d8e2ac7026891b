"""Where a model version's files may come from, and where they are then read.

A version's ``source`` is a reference the client chose; the server must never read from, or
hand out, a place the client could not write to itself. MLflow shipped a chain of advisories
of exactly this kind (CVE-2023-1177, -2356, -2780, -6909, -6977, CVE-2024-1558, -1483, ...):
each fixed one spelling of an escape. So this module decides on one canonical form, made
*after* every percent-escape is decoded and every backslash seen, and accepts a source only when
that form lies inside one of three places:

1. the artifacts of the version's run (``runs:/<run_id>/<path>``, or a URI inside the run's
   artifact URI) -- and only of *that* run;
2. the location of the linked logged model (``models:/<model_id>``, or a URI inside it);
3. the store's artifact root, unless the place belongs to another run or logged model.

``models:/<name>/<version>`` (what ``copy_model_version`` sends) resolves to that version's
location. Everything else is refused with ``InvalidParameter`` before anything is written.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from mltrail.exceptions import InvalidParameter, NotFound

PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts/"
MAX_SOURCE_LENGTH = 4096
_LOCAL_SCHEMES = ("", "file")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


class SourceLookup(Protocol):
    """What the check needs to know from the store."""

    def run_artifact_uri(self, run_id: str) -> str:
        """The run's artifact URI; ``NotFound`` if there is no such run."""

    def logged_model_location(self, model_id: str) -> str:
        """The logged model's artifact location; ``NotFound`` if there is none."""

    def logged_model_run(self, model_id: str) -> str | None:
        """The run that produced the logged model, if any."""

    def version_location(self, name: str, version: str) -> tuple[str, str | None, str | None]:
        """(download location, run id, model id) of a registered version (or alias)."""

    def owners(self, candidates: list[str]) -> list[tuple[str, str, str]]:
        """Runs and logged models whose id is among ``candidates``, as (kind, id, location)
        with kind ``"run"`` or ``"model"``."""


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    source: str  # as the client gave it
    storage_location: str  # where the files are read from, in canonical form
    run_id: str | None
    model_id: str | None


@dataclass(frozen=True, slots=True)
class _Place:
    scheme: str
    host: str
    parts: tuple[str, ...]

    def contains(self, other: _Place) -> bool:
        return (
            self.scheme == other.scheme
            and self.host == other.host
            and other.parts[: len(self.parts)] == self.parts
        )


def resolve_source(
    source: object,
    run_id: str | None,
    model_id: str | None,
    artifact_root: str | None,
    lookup: SourceLookup,
) -> ResolvedSource:
    """Check ``source`` against the places above; the canonical location to read it from."""
    text = _decoded(source)
    if text.startswith("runs:/"):
        return _from_run_uri(str(source), text, run_id, model_id, lookup)
    if text.startswith("models:/"):
        return _from_models_uri(str(source), text, run_id, model_id, lookup)
    place = _place(text, str(source))
    allowed: list[_Place] = []
    if run_id:
        allowed.append(_trusted_place(_run_location(lookup, run_id)))
    if model_id:
        allowed.append(_trusted_place(_model_location(lookup, model_id)))
    inside_own = any(p.contains(place) for p in allowed)
    root = _trusted_place(artifact_root) if artifact_root else None
    if not inside_own and not (root is not None and root.contains(place)):
        raise _refused(
            source,
            "it is outside the run's artifacts, the logged model's location and the server's "
            "artifact root",
        )
    _check_owners(source, place, run_id, model_id, lookup)
    return ResolvedSource(str(source), _render(place), run_id, model_id)


# -- the three kinds of source ------------------------------------------------------------------


def _from_run_uri(
    source: str, text: str, run_id: str | None, model_id: str | None, lookup: SourceLookup
) -> ResolvedSource:
    named, _, path = text[len("runs:/") :].partition("/")
    if not named:
        raise _refused(source, "a runs:/ source must name a run: runs:/<run_id>/<path>")
    if run_id is None:
        run_id = named
    elif named != run_id:
        raise _refused(
            source,
            f"it names run {named} but the version's run_id is {run_id}; a version may only "
            "come from its own run's artifacts",
        )
    base = _trusted_place(_run_location(lookup, run_id))
    rel = _relative_parts(path, source)
    return ResolvedSource(source, _render(_Place(base.scheme, base.host, base.parts + rel)),
                          run_id, model_id)  # fmt: skip


def _from_models_uri(
    source: str, text: str, run_id: str | None, model_id: str | None, lookup: SourceLookup
) -> ResolvedSource:
    rest = text[len("models:/") :]
    if _MODEL_ID.match(rest):  # models:/<model_id>, what MLflow 3's log_model registers
        if model_id is not None and model_id != rest:
            raise _refused(source, f"it names logged model {rest} but model_id is {model_id}")
        location = _model_location(lookup, rest)
        # A version registered from a logged model belongs to the run that produced it (as
        # in MLflow, whose client sends no run_id for models:/<model_id>).
        run_id = run_id or lookup.logged_model_run(rest)
        return ResolvedSource(source, _render(_trusted_place(location)), run_id, rest)
    name, sep, version = rest.partition("/")
    if "@" in rest and not sep:
        name, _, version = rest.partition("@")
    if not name or not version or "/" in version:
        raise _refused(
            source,
            "a models:/ source is models:/<model_id>, models:/<name>/<version> or "
            "models:/<name>@<alias>",
        )
    try:
        location, src_run, src_model = lookup.version_location(name, version)
    except NotFound as exc:
        raise _refused(source, exc.message) from None
    if run_id and src_run and run_id != src_run:
        raise _refused(source, f"that version comes from run {src_run}, not from {run_id}")
    if model_id and src_model and model_id != src_model:
        raise _refused(source, f"that version links logged model {src_model}, not {model_id}")
    return ResolvedSource(source, location, run_id or src_run, model_id or src_model)


def _check_owners(
    source: object, place: _Place, run_id: str | None, model_id: str | None, lookup: SourceLookup
) -> None:
    """Refuse a place that lies inside another run's artifacts or another model's files."""
    candidates = sorted({p for p in place.parts if p and len(p) <= 64})
    if not candidates:
        return
    for kind, owner_id, location in lookup.owners(candidates):
        if not _trusted_place(location).contains(place):
            continue
        if (kind == "run" and owner_id != run_id) or (kind == "model" and owner_id != model_id):
            what = "run" if kind == "run" else "logged model"
            raise _refused(
                source,
                f"it lies inside the artifacts of {what} {owner_id}; register it with "
                f"{'run_id' if kind == 'run' else 'model_id'}={owner_id} instead",
            )


# -- canonical forms ----------------------------------------------------------------------------


def _decoded(source: object) -> str:
    if not isinstance(source, str) or not source.strip():
        raise InvalidParameter(
            "A model version needs a source: the location of its files, e.g. "
            "runs:/<run_id>/model or models:/<model_id>."
        )
    if len(source) > MAX_SOURCE_LENGTH:
        raise _refused(source[:80] + "...", f"it is longer than {MAX_SOURCE_LENGTH} characters")
    text = source
    for _ in range(8):  # double and triple encodings decode to what they hide
        again = unquote(text)
        if again == text:
            break
        text = again
    else:
        raise _refused(source, "it is percent-encoded too many times")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise _refused(source, "it contains a NUL or another control character")
    if "\\" in text:
        raise _refused(source, "backslashes are not allowed in a source")
    if "?" in text or "#" in text:
        raise _refused(source, "a source must not carry a query (?) or a fragment (#)")
    if any(part == ".." for part in re.split(r"[/]", text)):
        raise _refused(source, "'..' is not allowed in a source")
    return text


def _place(text: str, shown: str) -> _Place:
    if _WINDOWS_DRIVE.match(text):
        raise _refused(shown, "Windows paths are not accepted")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in _LOCAL_SCHEMES:
        if parts.netloc not in ("", "localhost"):
            raise _refused(shown, "a file: URI must not name a host")
        path = parts.path if scheme else text
        return _Place("file", "", tuple(p for p in os.path.realpath(path).split("/") if p))
    if scheme in ("http", "https"):
        if PROXY_PATH not in parts.path:
            raise _refused(
                shown, "http(s) sources are accepted only as this server's artifact proxy URLs"
            )
        scheme, path = "mlflow-artifacts", parts.path.split(PROXY_PATH, 1)[1]
        return _Place(scheme, "", _relative_parts(path, shown))
    if scheme == "mlflow-artifacts":
        if parts.netloc:
            raise _refused(shown, "an mlflow-artifacts: source must not name a host")
        return _Place(scheme, "", _relative_parts(parts.path, shown))
    if not parts.netloc:
        raise _refused(shown, f"a {scheme}: source must name its bucket or host")
    return _Place(scheme, parts.netloc.lower(), _relative_parts(parts.path, shown))


def _trusted_place(location: str) -> _Place:
    """The canonical form of a location the store itself chose (a run's, a model's, the root):
    parsed the same way, so that containment compares like with like."""
    text = unquote(location)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in _LOCAL_SCHEMES or _WINDOWS_DRIVE.match(text):
        path = parts.path if scheme else text
        return _Place("file", "", tuple(p for p in os.path.realpath(path).split("/") if p))
    if scheme in ("http", "https") and PROXY_PATH in parts.path:
        rel = parts.path.split(PROXY_PATH, 1)[1]
        return _Place("mlflow-artifacts", "", tuple(p for p in rel.split("/") if p))
    host = "" if scheme == "mlflow-artifacts" else parts.netloc.lower()
    return _Place(scheme, host, tuple(p for p in parts.path.split("/") if p not in ("", ".")))


def _relative_parts(path: str, shown: object) -> tuple[str, ...]:
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    if any(p == ".." for p in parts):
        raise _refused(shown, "'..' is not allowed in a source")
    return parts


def _render(place: _Place) -> str:
    path = "/".join(place.parts)
    if place.scheme == "file":
        return "/" + path
    if place.scheme == "mlflow-artifacts":
        return f"mlflow-artifacts:/{path}"
    return f"{place.scheme}://{place.host}/{path}" if path else f"{place.scheme}://{place.host}"


def _run_location(lookup: SourceLookup, run_id: str) -> str:
    try:
        return lookup.run_artifact_uri(run_id)
    except NotFound:
        raise InvalidParameter(
            f"Invalid model version source: the run_id {run_id!r} names no run."
        ) from None


def _model_location(lookup: SourceLookup, model_id: str) -> str:
    try:
        return lookup.logged_model_location(model_id)
    except NotFound:
        raise InvalidParameter(
            f"Invalid model version source: the model_id {model_id!r} names no logged model."
        ) from None


def _refused(source: object, why: str) -> InvalidParameter:
    shown = str(source)
    shown = shown if len(shown) <= 200 else shown[:200] + "..."
    return InvalidParameter(f"Invalid model version source {shown!r}: {why}.")


def join_location(location: str, path: str) -> str:
    """A path under a location (for reading one file of a version)."""
    return posixpath.join(location.rstrip("/"), path) if path else location
