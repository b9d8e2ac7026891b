"""One HTTP route of the server, as data: what the server mounts, what ``RestStore`` calls and
what the security layer checks all read the same ``Route``.

Nothing here imports a web framework or pydantic, so a client pays nothing for the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

# Families of paths. A route of the two REST families is also served under /ajax-api (the
# prefix MLflow's web UI calls), unless it says otherwise.
MLFLOW = "/api/2.0/mlflow"
MLFLOW_3 = "/api/3.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts"
ROOT = ""

AccessLevel = Literal["READ", "USE", "EDIT", "MANAGE"]
ResourceKind = Literal[
    "server", "experiment", "run", "logged_model", "registered_model", "artifact", "public"
]


@dataclass(frozen=True)
class Permission:
    """What a caller needs for a route: ``level`` on the ``resource`` whose id the request
    carries in ``id_field`` (a body or query field, or a path parameter). ``public`` routes
    (health, static files) need nothing. The security layer reads these; routes without one
    are decided by its default."""

    resource: ResourceKind
    level: AccessLevel = "READ"
    id_field: str | None = None


@dataclass(frozen=True)
class Route:
    """One method on one path.

    ``path`` is relative to ``prefix`` and may hold parameters (``/logged-models/{model_id}``,
    ``{name:path}`` for a parameter that spans segments). ``request`` names the request model
    (a ``WireModel`` subclass in ``mltrail.server.api``; None when the route reads no body or
    query model) and ``response`` lists the top-level fields of a JSON answer (empty for ``{}``
    or a non-JSON answer). ``ajax`` adds the ``/ajax-api`` twin of a REST route;
    ``in_schema`` says whether ``/openapi.json`` documents it.
    """

    method: HttpMethod
    path: str
    prefix: str = MLFLOW
    request: str | None = None
    response: tuple[str, ...] = ()
    permission: Permission | None = None
    ajax: bool = True
    in_schema: bool = True
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.ajax and not self.prefix.startswith("/api/"):
            raise ValueError(f"{self.full_path}: only /api routes have an /ajax-api twin")
        object.__setattr__(self, "_pattern", _compile(self.full_path))

    @property
    def full_path(self) -> str:
        """The path as the server mounts it (parameters still in braces)."""
        return self.prefix + self.path

    @property
    def ajax_path(self) -> str | None:
        """The ``/ajax-api`` twin's path, or None."""
        if not self.ajax:
            return None
        return "/ajax-api/" + self.full_path[len("/api/") :]

    @property
    def mounted_paths(self) -> tuple[str, ...]:
        twin = self.ajax_path
        return (self.full_path,) if twin is None else (self.full_path, twin)

    def url(self, **params: str) -> str:
        """The path with its parameters filled in, each quoted as one segment (a ``:path``
        parameter keeps its slashes)."""
        if "{" not in self.path:
            return self.full_path

        def fill(match: re.Match[str]) -> str:
            name, _, kind = match.group(1).partition(":")
            if name not in params:
                raise KeyError(f"{self.full_path} needs the path parameter {name!r}")
            return quote(str(params[name]), safe="/" if kind == "path" else "")

        return _PARAM.sub(fill, self.full_path)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (method, URL path) is this route, under either prefix."""
        if method.upper() != self.method:
            return False
        if path.startswith("/ajax-api/") and self.ajax:
            path = "/api/" + path[len("/ajax-api/") :]
        return self._pattern.fullmatch(path) is not None


_PARAM = re.compile(r"\{([^{}]+)\}")


def _compile(template: str) -> re.Pattern[str]:
    out, last = [], 0
    for match in _PARAM.finditer(template):
        out.append(re.escape(template[last : match.start()]))
        kind = match.group(1).partition(":")[2]
        out.append(".+" if kind == "path" else "[^/]+")
        last = match.end()
    out.append(re.escape(template[last:]))
    return re.compile("".join(out))
