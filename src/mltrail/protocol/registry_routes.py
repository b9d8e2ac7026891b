"""The model registry's routes (MLflow's ``ModelRegistryService`` and MLflow 3's
``WebhookService``, under ``/api/2.0/mlflow``) and the registry's UI pages. Permissions name
the registered model by its ``name`` field; webhooks are the server operator's."""

from __future__ import annotations

from mltrail.protocol.route import ROOT, HttpMethod, Permission, Route

PAGE = ("next_page_token",)
_READ = Permission("registered_model", "READ", "name")
_EDIT = Permission("registered_model", "EDIT", "name")
_MANAGE = Permission("registered_model", "MANAGE", "name")
_CREATE = Permission("server", "USE")
_HOOKS = Permission("server", "MANAGE")
_RM, _MV = "/registered-models", "/model-versions"


def _r(method: HttpMethod, path: str, request: str | None, response: tuple[str, ...],
       permission: Permission) -> Route:  # fmt: skip
    return Route(method, path, request=request, response=response, permission=permission)


# -- registered models --------------------------------------------------------------------------
CREATE_REGISTERED_MODEL = _r(
    "POST", f"{_RM}/create", "CreateModelIn", ("registered_model",), _CREATE
)
GET_REGISTERED_MODEL = _r("GET", f"{_RM}/get", "NameIn", ("registered_model",), _READ)
RENAME_REGISTERED_MODEL = _r("POST", f"{_RM}/rename", "RenameIn", ("registered_model",), _MANAGE)
UPDATE_REGISTERED_MODEL = _r(
    "PATCH", f"{_RM}/update", "UpdateModelIn", ("registered_model",), _EDIT
)
DELETE_REGISTERED_MODEL = _r("DELETE", f"{_RM}/delete", "NameIn", (), _MANAGE)
SEARCH_REGISTERED_MODELS = _r(
    "GET", f"{_RM}/search", "SearchIn", ("registered_models", *PAGE), Permission("server", "READ")
)
GET_LATEST_VERSIONS = _r(
    "POST", f"{_RM}/get-latest-versions", "LatestIn", ("model_versions",), _READ
)
GET_LATEST_VERSIONS_GET = _r(
    "GET", f"{_RM}/get-latest-versions", "LatestIn", ("model_versions",), _READ
)
SET_REGISTERED_MODEL_TAG = _r("POST", f"{_RM}/set-tag", "ModelTagIn", (), _EDIT)
DELETE_REGISTERED_MODEL_TAG = _r("DELETE", f"{_RM}/delete-tag", "ModelTagKeyIn", (), _EDIT)
SET_ALIAS = _r("POST", f"{_RM}/alias", "AliasIn", (), _EDIT)
DELETE_ALIAS = _r("DELETE", f"{_RM}/alias", "AliasRefIn", (), _EDIT)
GET_VERSION_BY_ALIAS = _r("GET", f"{_RM}/alias", "AliasRefIn", ("model_version",), _READ)

# -- model versions -----------------------------------------------------------------------------
CREATE_MODEL_VERSION = _r("POST", f"{_MV}/create", "CreateVersionIn", ("model_version",), _EDIT)
GET_MODEL_VERSION = _r("GET", f"{_MV}/get", "VersionIn", ("model_version",), _READ)
UPDATE_MODEL_VERSION = _r("PATCH", f"{_MV}/update", "UpdateVersionIn", ("model_version",), _EDIT)
DELETE_MODEL_VERSION = _r("DELETE", f"{_MV}/delete", "VersionIn", (), _MANAGE)
TRANSITION_STAGE = _r("POST", f"{_MV}/transition-stage", "TransitionIn", ("model_version",), _EDIT)
GET_DOWNLOAD_URI = _r("GET", f"{_MV}/get-download-uri", "DownloadUriIn", ("artifact_uri",), _READ)
SEARCH_MODEL_VERSIONS = _r(
    "GET", f"{_MV}/search", "SearchIn", ("model_versions", *PAGE), Permission("server", "READ")
)
SET_MODEL_VERSION_TAG = _r("POST", f"{_MV}/set-tag", "VersionTagIn", (), _EDIT)
DELETE_MODEL_VERSION_TAG = _r("DELETE", f"{_MV}/delete-tag", "VersionTagKeyIn", (), _EDIT)
# A file of a version, read through the artifact proxy's repository: the web UI's link, at the
# server's root as in MLflow.
GET_MODEL_VERSION_ARTIFACT = Route(
    "GET",
    f"{_MV}/get-artifact",
    prefix=ROOT,
    ajax=False,
    request="VersionArtifactIn",
    permission=_READ,
)

# -- webhooks (MLflow 3) ------------------------------------------------------------------------
HOOK = "/webhooks/{webhook_id}"
CREATE_WEBHOOK = _r("POST", "/webhooks", "CreateHookIn", ("webhook",), _HOOKS)
LIST_WEBHOOKS = _r("GET", "/webhooks", "ListHooksIn", ("webhooks", *PAGE), _HOOKS)
GET_WEBHOOK = _r("GET", HOOK, None, ("webhook",), _HOOKS)
UPDATE_WEBHOOK = _r("PATCH", HOOK, "UpdateHookIn", ("webhook",), _HOOKS)
DELETE_WEBHOOK = _r("DELETE", HOOK, None, (), _HOOKS)
TEST_WEBHOOK = _r("POST", HOOK + "/test", "TestHookIn", ("result",), _HOOKS)

ROUTES: tuple[Route, ...] = tuple(v for v in list(vars().values()) if isinstance(v, Route))


# -- the registry's UI pages and the JSON actions they call --------------------------------------
def _ui(method: HttpMethod, path: str, permission: Permission) -> Route:
    return Route(method, path, prefix=ROOT, ajax=False, in_schema=False, permission=permission)


UI_ROUTES: tuple[Route, ...] = (
    _ui("GET", "/models/{name}", _READ),
    _ui("GET", "/models/{name}/versions/{version}", _READ),
    _ui("POST", "/ajax-api/ui/models/description", _EDIT),
    _ui("POST", "/ajax-api/ui/models/set-alias", _EDIT),
    _ui("POST", "/ajax-api/ui/models/delete-alias", _EDIT),
)
