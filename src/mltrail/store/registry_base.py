"""The model registry store contract: every backend (SQL, REST) implements exactly this.

Methods raise ``NotFound`` for unknown names, versions and aliases, ``AlreadyExists`` for a
taken name, and ``InvalidParameter`` for bad input (names, aliases, sources); a write either
lands whole or raises, and a refused write leaves nothing behind.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence

from mltrail.entities import (
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
)
from mltrail.exceptions import InvalidParameter, NotFound

SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT = 100
SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD = 1000
SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT = 10000
SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD = 200000

MAX_MODEL_NAME_LENGTH = 256
MAX_ALIAS_LENGTH = 255
MAX_REGISTRY_TAG_VALUE_LENGTH = 100000
MAX_DESCRIPTION_LENGTH = 100000

_ALIAS = re.compile(r"^[\w\-]+$")
_VERSION_LIKE = re.compile(r"^[vV]\d+$")


class ModelRegistryStore(abc.ABC):
    """Registered models, their versions, tags and aliases."""

    # -- registered models -------------------------------------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
    ) -> RegisteredModel:
        """A new model with no versions. ``AlreadyExists`` if the name is taken."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version per stage."""

    @abc.abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model; its versions, tags and aliases follow."""

    @abc.abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set the description."""

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Delete a model with all its versions, tags and aliases."""

    @abc.abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """A page of models; default order ``name ASC``."""

    @abc.abstractmethod
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when none are given)."""

    @abc.abstractmethod
    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        """Set (or overwrite) one tag."""

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove one tag (a tag that is not set is not an error, as in MLflow)."""

    # -- model versions ----------------------------------------------------------------------
    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """A new READY version numbered one past the model's highest; the source must be the
        run's artifacts, the logged model's location or inside the artifact root."""

    @abc.abstractmethod
    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """One version with its tags and aliases."""

    @abc.abstractmethod
    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        """Set the description."""

    @abc.abstractmethod
    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to a stage (deprecated in MLflow; kept for its clients)."""

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: str | int) -> None:
        """Delete a version; aliases pointing at it go too. Its number is never reused."""

    @abc.abstractmethod
    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where the version's files are."""

    @abc.abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """A page of versions; default order ``last_updated_timestamp DESC, name ASC,
        version_number DESC``."""

    @abc.abstractmethod
    def set_model_version_tag(self, name: str, version: str | int, tag: ModelVersionTag) -> None:
        """Set (or overwrite) one tag of a version."""

    @abc.abstractmethod
    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        """Remove one tag of a version."""

    # -- aliases -----------------------------------------------------------------------------
    @abc.abstractmethod
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point an alias at a version (moving it if it pointed elsewhere)."""

    @abc.abstractmethod
    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias."""

    @abc.abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at. ``NotFound`` if the alias is not set."""

    # -- helpers every backend may use ------------------------------------------------------
    def copy_model_version(self, src: ModelVersion, dst_name: str) -> ModelVersion:
        """A new version of ``dst_name`` (created if missing) with ``src``'s files, run and
        tags."""
        try:
            self.get_registered_model(dst_name)
        except NotFound:
            self.create_registered_model(dst_name)
        return self.create_model_version(
            dst_name,
            f"models:/{src.name}/{src.version}",
            run_id=src.run_id,
            tags=[ModelVersionTag(k, v) for k, v in src.tags.items()],
            run_link=src.run_link,
            description=src.description,
            model_id=src.model_id,
        )


# -- checks shared by the backends ---------------------------------------------------------------


def check_model_name(name: object, what: str = "registered model name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter(
            f"The {what} must be a non-empty string, got {name!r}: give the model a name."
        )
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidParameter(
            f"The {what} '{name[:40]}...' exceeds the maximum length of "
            f"{MAX_MODEL_NAME_LENGTH} characters."
        )
    if "/" in name or ":" in name or "\x00" in name or "\\" in name:
        raise InvalidParameter(
            f"Invalid model name {name!r}. Names cannot contain '/', ':', '\\' or NUL characters."
        )
    if name in (".", "..") or name != name.strip():
        raise InvalidParameter(
            f"Invalid model name {name!r}: it must not be '.' or '..', nor start or end with "
            "spaces."
        )
    return name


def check_version(version: object) -> int:
    """A version number given as an int or a decimal string."""
    if isinstance(version, bool):
        version = str(version)
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isdigit():
        number = int(version.strip())
    else:
        raise InvalidParameter(f"Parameter 'version' must be an integer, got '{version}'.")
    if not 1 <= number <= 2**31 - 1:
        raise InvalidParameter(f"Parameter 'version' must be a positive integer, got {number}.")
    return number


def check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not alias:
        raise InvalidParameter(f"An alias must be a non-empty string, got {alias!r}.")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidParameter(
            f"The alias '{alias[:40]}...' exceeds the maximum length of {MAX_ALIAS_LENGTH} "
            "characters."
        )
    if not _ALIAS.match(alias):
        raise InvalidParameter(
            f"Invalid alias name: {alias!r}. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    if alias.lower() == "latest":
        raise InvalidParameter(
            "'latest' alias name (case insensitive) is reserved: models:/<name>/latest already "
            "means the newest version."
        )
    if _VERSION_LIKE.match(alias):
        raise InvalidParameter(
            f"Version alias name '{alias}' is reserved: it would read as a version number; "
            "pick a name such as 'champion'."
        )
    return alias


def check_registry_tag(key: object, value: object, what: str) -> tuple[str, str]:
    from mltrail.utils.validation import validate_key

    key = validate_key(key, f"{what} tag key")
    if value is None:
        raise InvalidParameter(f"The {what} tag '{key}' needs a value (it must not be null).")
    text = str(value)
    if len(text) > MAX_REGISTRY_TAG_VALUE_LENGTH:
        raise InvalidParameter(
            f"The value of {what} tag '{key}' exceeds the maximum length of "
            f"{MAX_REGISTRY_TAG_VALUE_LENGTH} characters."
        )
    if "\x00" in text:
        raise InvalidParameter(f"The value of {what} tag '{key}' must not contain NUL.")
    return key, text


def check_description(description: object) -> str | None:
    if description is None:
        return None
    if not isinstance(description, str):
        raise InvalidParameter(f"A description must be a string, got {description!r}.")
    if len(description) > MAX_DESCRIPTION_LENGTH or "\x00" in description:
        raise InvalidParameter(
            f"A description must be at most {MAX_DESCRIPTION_LENGTH} characters, without NUL."
        )
    return description


def check_search_max_results(max_results: object, threshold: int) -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results <= 0:
        raise InvalidParameter(
            f"Invalid value {max_results!r} for parameter 'max_results': it must be a positive "
            "integer."
        )
    if max_results > threshold:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results': it must be at most "
            f"{threshold}."
        )
    return max_results


def registered_model_not_found(name: str) -> NotFound:
    return NotFound(f"Registered Model with name={name} not found")


def model_version_not_found(name: str, version: int | str) -> NotFound:
    return NotFound(f"Model Version (name={name}, version={version}) not found")
