"""A run's writes without SQLAlchemy: the checks before them and the driver statements of a
run's life (create, log params and tags, end) and of an experiment's lookup: the SQL store runs them
through ``DriverSql``, and ``mltrail run`` runs the same text on a plain ``sqlite3``
connection (``mltrail.projects.sqlite_book``) so that starting a project never loads
SQLAlchemy. Written with ``?`` placeholders and double-quoted names, which SQLite takes as is.
"""

from __future__ import annotations

from collections.abc import Sequence

from mltrail.entities import Param, RunTag
from mltrail.exceptions import InvalidParameter
from mltrail.store.sql.common import RUN_NAME_TAG, DriverSql
from mltrail.store.sql.names import generate_run_name
from mltrail.utils import validation as v

# The statements of creating and ending a run, on the driver (see ``DriverSql``): a run is
# two short transactions, and SQLAlchemy's per-statement work was most of their cost.
RUN_ROW = DriverSql(
    "SELECT run_uuid, name, experiment_id, user_id, status, start_time, end_time, "
    "lifecycle_stage, artifact_uri FROM runs WHERE run_uuid = ?"
)
INSERT_RUN = DriverSql(
    "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, end_time, "
    "lifecycle_stage, artifact_uri) VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, 'active', ?)"
)
END_RUN = DriverSql("UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?")
RENAME_RUN = DriverSql("UPDATE runs SET name = ? WHERE run_uuid = ?")
INSERT_TAG = DriverSql('INSERT INTO tags (run_uuid, "key", value) VALUES (?, ?, ?)')
UPSERT_TAG = DriverSql(
    'INSERT INTO tags (run_uuid, "key", value) VALUES (?, ?, ?) '
    'ON CONFLICT (run_uuid, "key") DO UPDATE SET value = excluded.value'
)
DELETE_TAG = DriverSql('DELETE FROM tags WHERE run_uuid = ? AND "key" = ?')
INSERT_PARAM = DriverSql('INSERT INTO params (run_uuid, "key", value) VALUES (?, ?, ?)')
PARAMS_OF_RUN = DriverSql('SELECT "key", value FROM params WHERE run_uuid = ?')
INSERT_NEW_PARAM = DriverSql(
    'INSERT INTO params (run_uuid, "key", value) VALUES (?, ?, ?) '
    'ON CONFLICT (run_uuid, "key") DO NOTHING'
)


# Every new run reads its experiment's stage and artifact root: on the driver, not through
# SQLAlchemy (whose per-call work cost more than the lookup).
STAGE_AND_LOCATION = DriverSql(
    "SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?"
)
EXPERIMENT_BY_NAME = DriverSql(
    "SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = ?"
)


def new_run_tags(tags: Sequence[RunTag], run_name: str | None) -> dict[str, str]:
    """A new run's tags as key -> text, its name under ``mlflow.runName`` (checked first)."""
    tag_map = {}
    for tag in tags:
        v.validate_key(tag.key, "tag key")
        tag_map[tag.key] = v.tag_value_str(tag.key, tag.value)
    tagged_name = tag_map.get(RUN_NAME_TAG)
    if run_name and tagged_name and run_name != tagged_name:
        raise InvalidParameter(
            f"Both 'run_name' argument and '{RUN_NAME_TAG}' tag are specified, but with "
            f"different values (run_name='{run_name}', {RUN_NAME_TAG}='{tagged_name}')."
        )
    tag_map[RUN_NAME_TAG] = run_name or tagged_name or generate_run_name()
    return tag_map


def checked_params_tags(
    params: Sequence[Param], tags: Sequence[RunTag]
) -> tuple[dict[str, str], dict[str, str]]:
    """Validate params and tags before any I/O, as key -> text."""
    v.validate_unique_param_keys([p.key for p in params])
    param_map = {}
    for p in params:
        v.validate_key(p.key, "param key")
        param_map[p.key] = v.param_value_str(p.key, p.value)
    tag_map = {}
    for t in tags:
        v.validate_key(t.key, "tag key")
        tag_map[t.key] = v.tag_value_str(t.key, t.value)
    return param_map, tag_map
