"""Users, API tokens, grants and the audit log, in the tracking database's ``mltrail_*`` auth
tables. Permissions are MLflow's: READ < EDIT < MANAGE; NO_PERMISSIONS refuses everything."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mltrail.exceptions import AlreadyExists, InvalidParameter, NotFound
from mltrail.server.auth import passwords
from mltrail.store.sql.auth_tables import (
    audit_log,
    ensure_auth_tables,
    experiment_permissions,
    group_members,
    group_permissions,
    groups,
    registered_model_permissions,
    tokens,
    users,
)

PERMISSIONS = ("NO_PERMISSIONS", "READ", "EDIT", "MANAGE")
RANK = {name: rank for rank, name in enumerate(PERMISSIONS)}
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+\-]{0,254}$")


def permission_name(value: object) -> str:
    if not isinstance(value, str) or value.upper() not in RANK:
        raise InvalidParameter(
            f"Invalid permission {value!r}: use one of {', '.join(PERMISSIONS)}."
        )
    return value.upper()


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool


def _now_ms() -> int:
    return int(time.time() * 1000)


class AuthStore:
    def __init__(self, engine: Any) -> None:
        self.engine = engine
        ensure_auth_tables(engine)
        from mltrail.server.auth.throttle import SignInThrottle

        self.throttle = SignInThrottle()  # shared by the API and the login page
        self._audit: list[dict[str, Any]] = []
        self._audit_lock = threading.Lock()

    def _tx(self, write: bool = False) -> Any:
        from mltrail.store.sql.engine import transaction

        return transaction(self.engine, write=write)

    # -- users ----------------------------------------------------------------------------------
    def count_users(self) -> int:
        with self._tx() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())

    def create_user(self, username: str, password: str, is_admin: bool = False) -> User:
        if not isinstance(username, str) or not _USERNAME.match(username):
            raise InvalidParameter(
                f"Invalid user name {username!r}: letters, digits and _ . @ + - only."
            )
        passwords.check_password_strength(password, username)
        hashed = passwords.hash_password(password)
        with self._tx(write=True) as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
                raise AlreadyExists(f"User '{username}' already exists.")
            conn.execute(
                users.insert().values(
                    username=username,
                    password_hash=hashed,
                    is_admin=is_admin,
                    created_ms=_now_ms(),
                )
            )
        return self.get_user(username)

    def get_user(self, username: str) -> User:
        with self._tx() as conn:
            row = conn.execute(
                sa.select(users.c.id, users.c.username, users.c.is_admin).where(
                    users.c.username == username
                )
            ).first()
        if row is None:
            raise NotFound(f"User '{username}' not found.")
        return User(row.id, row.username, bool(row.is_admin))

    def list_users(self) -> list[User]:
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(users.c.id, users.c.username, users.c.is_admin).order_by(users.c.id)
            ).all()
        return [User(r.id, r.username, bool(r.is_admin)) for r in rows]

    def authenticate(self, username: str, password: str) -> User | None:
        with self._tx() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            passwords.verify_password(passwords.dummy_hash(), password)  # same time either way
            return None
        if not passwords.verify_password(row.password_hash, password):
            return None
        return User(row.id, row.username, bool(row.is_admin))

    def update_password(self, username: str, password: str) -> None:
        passwords.check_password_strength(password, username)
        hashed = passwords.hash_password(password)
        with self._tx(write=True) as conn:
            done = conn.execute(
                users.update().where(users.c.username == username).values(password_hash=hashed)
            ).rowcount
        if not done:
            raise NotFound(f"User '{username}' not found.")

    def update_admin(self, username: str, is_admin: bool) -> None:
        with self._tx(write=True) as conn:
            done = conn.execute(
                users.update().where(users.c.username == username).values(is_admin=is_admin)
            ).rowcount
        if not done:
            raise NotFound(f"User '{username}' not found.")

    def delete_user(self, username: str) -> None:
        user = self.get_user(username)
        with self._tx(write=True) as conn:
            for table in (
                tokens,
                experiment_permissions,
                registered_model_permissions,
                group_members,
            ):
                conn.execute(table.delete().where(table.c.user_id == user.id))
            conn.execute(users.delete().where(users.c.id == user.id))

    # -- tokens ---------------------------------------------------------------------------------
    def create_token(self, username: str, name: str = "token") -> str:
        user = self.get_user(username)
        token = passwords.new_token()
        with self._tx(write=True) as conn:
            conn.execute(
                tokens.insert().values(
                    digest=passwords.token_digest(token),
                    user_id=user.id,
                    name=name,
                    created_ms=_now_ms(),
                )
            )
        return token

    def user_for_token(self, token: str) -> User | None:
        digest = passwords.token_digest(token)
        with self._tx() as conn:
            row = conn.execute(
                sa.select(users.c.id, users.c.username, users.c.is_admin)
                .select_from(users.join(tokens, tokens.c.user_id == users.c.id))
                .where(tokens.c.digest == digest)
            ).first()
        return None if row is None else User(row.id, row.username, bool(row.is_admin))

    def user_for_session(self, token: str, max_age_ms: int) -> User | None:
        """The user of a web-UI session token, if it is one and younger than ``max_age_ms``."""
        digest = passwords.token_digest(token)
        with self._tx() as conn:
            row = conn.execute(
                sa.select(users.c.id, users.c.username, users.c.is_admin)
                .select_from(users.join(tokens, tokens.c.user_id == users.c.id))
                .where(
                    tokens.c.digest == digest,
                    tokens.c.name == "ui-session",
                    tokens.c.created_ms > _now_ms() - max_age_ms,
                )
            ).first()
        return None if row is None else User(row.id, row.username, bool(row.is_admin))

    def revoke_token(self, token: str) -> None:
        with self._tx(write=True) as conn:
            conn.execute(tokens.delete().where(tokens.c.digest == passwords.token_digest(token)))

    def revoke_tokens(self, username: str) -> int:
        user = self.get_user(username)
        with self._tx(write=True) as conn:
            return int(conn.execute(tokens.delete().where(tokens.c.user_id == user.id)).rowcount)

    # -- grants ---------------------------------------------------------------------------------
    def _grant_table(self, kind: str) -> tuple[Any, Any]:
        if kind == "experiment":
            return experiment_permissions, experiment_permissions.c.experiment_id
        return registered_model_permissions, registered_model_permissions.c.name

    def grant(self, kind: str, resource: str, username: str, permission: str) -> None:
        """Create a grant (400 if there is one already, as MLflow answers)."""
        permission = permission_name(permission)
        user = self.get_user(username)
        table, column = self._grant_table(kind)
        with self._tx(write=True) as conn:
            found = conn.execute(
                sa.select(table.c.permission).where(column == resource, table.c.user_id == user.id)
            ).first()
            if found is not None:
                raise AlreadyExists(
                    f"User '{username}' already has a permission on {kind} '{resource}'."
                )
            conn.execute(
                table.insert().values(
                    {column.key: resource, "user_id": user.id, "permission": permission}
                )
            )

    def update_grant(self, kind: str, resource: str, username: str, permission: str) -> None:
        permission = permission_name(permission)
        user = self.get_user(username)
        table, column = self._grant_table(kind)
        with self._tx(write=True) as conn:
            done = conn.execute(
                table.update()
                .where(column == resource, table.c.user_id == user.id)
                .values(permission=permission)
            ).rowcount
        if not done:
            raise NotFound(f"No permission of user '{username}' on {kind} '{resource}'.")

    def delete_grant(self, kind: str, resource: str, username: str) -> None:
        user = self.get_user(username)
        table, column = self._grant_table(kind)
        with self._tx(write=True) as conn:
            done = conn.execute(
                table.delete().where(column == resource, table.c.user_id == user.id)
            ).rowcount
        if not done:
            raise NotFound(f"No permission of user '{username}' on {kind} '{resource}'.")

    def set_grant(self, kind: str, resource: str, username: str, permission: str) -> None:
        """Give a user ``permission`` on one resource, creating or replacing their grant."""
        user = self.get_user(username)
        if self.get_grant(kind, resource, user.id) is None:
            self.grant(kind, resource, username, permission)
        else:
            self.update_grant(kind, resource, username, permission)

    def get_grant(self, kind: str, resource: str, user_id: int) -> str | None:
        table, column = self._grant_table(kind)
        with self._tx() as conn:
            row = conn.execute(
                sa.select(table.c.permission).where(column == resource, table.c.user_id == user_id)
            ).first()
        return None if row is None else str(row.permission)

    def grants_of(self, kind: str, user_id: int) -> dict[str, str]:
        table, column = self._grant_table(kind)
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(column, table.c.permission).where(table.c.user_id == user_id)
            ).all()
        return {str(r[0]): str(r[1]) for r in rows}

    # -- groups ---------------------------------------------------------------------------------
    def create_group(self, name: str) -> None:
        if not isinstance(name, str) or not _USERNAME.match(name):
            raise InvalidParameter(f"Invalid group name {name!r}: letters, digits and _ . @ + -.")
        with self._tx(write=True) as conn:
            if conn.execute(sa.select(groups.c.id).where(groups.c.name == name)).first():
                raise AlreadyExists(f"Group '{name}' already exists.")
            conn.execute(groups.insert().values(name=name))

    def _group_id(self, conn: Any, name: str) -> int:
        row = conn.execute(sa.select(groups.c.id).where(groups.c.name == name)).first()
        if row is None:
            raise NotFound(f"Group '{name}' not found.")
        return int(row.id)

    def delete_group(self, name: str) -> None:
        with self._tx(write=True) as conn:
            group_id = self._group_id(conn, name)
            for table in (group_members, group_permissions):
                conn.execute(table.delete().where(table.c.group_id == group_id))
            conn.execute(groups.delete().where(groups.c.id == group_id))

    def add_member(self, group: str, username: str) -> None:
        user = self.get_user(username)
        with self._tx(write=True) as conn:
            group_id = self._group_id(conn, group)
            found = conn.execute(
                sa.select(group_members.c.user_id).where(
                    group_members.c.group_id == group_id, group_members.c.user_id == user.id
                )
            ).first()
            if found is None:
                conn.execute(group_members.insert().values(group_id=group_id, user_id=user.id))

    def remove_member(self, group: str, username: str) -> None:
        user = self.get_user(username)
        with self._tx(write=True) as conn:
            group_id = self._group_id(conn, group)
            conn.execute(
                group_members.delete().where(
                    group_members.c.group_id == group_id, group_members.c.user_id == user.id
                )
            )

    def grant_group(self, group: str, kind: str, resource: str, permission: str) -> None:
        """Set a group's permission on one resource (replacing any it had)."""
        permission = permission_name(permission)
        with self._tx(write=True) as conn:
            group_id = self._group_id(conn, group)
            where = (
                group_permissions.c.group_id == group_id,
                group_permissions.c.kind == kind,
                group_permissions.c.resource == resource,
            )
            conn.execute(group_permissions.delete().where(*where))
            conn.execute(
                group_permissions.insert().values(
                    group_id=group_id, kind=kind, resource=resource, permission=permission
                )
            )

    def revoke_group(self, group: str, kind: str, resource: str) -> None:
        """Take a group's permission on one resource away (404 if it had none)."""
        with self._tx(write=True) as conn:
            group_id = self._group_id(conn, group)
            done = conn.execute(
                group_permissions.delete().where(
                    group_permissions.c.group_id == group_id,
                    group_permissions.c.kind == kind,
                    group_permissions.c.resource == resource,
                )
            ).rowcount
        if not done:
            raise NotFound(f"Group '{group}' has no permission on {kind} '{resource}'.")

    def group_grants(self, group: str) -> list[tuple[str, str, str]]:
        """A group's grants: (kind, resource, permission), by kind and resource."""
        with self._tx() as conn:
            group_id = self._group_id(conn, group)
            rows = conn.execute(
                sa.select(
                    group_permissions.c.kind,
                    group_permissions.c.resource,
                    group_permissions.c.permission,
                )
                .where(group_permissions.c.group_id == group_id)
                .order_by(group_permissions.c.kind, group_permissions.c.resource)
            ).all()
        return [(str(r.kind), str(r.resource), str(r.permission)) for r in rows]

    def list_groups(self) -> dict[str, list[str]]:
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(groups.c.name, users.c.username)
                .select_from(
                    groups.outerjoin(
                        group_members, group_members.c.group_id == groups.c.id
                    ).outerjoin(users, users.c.id == group_members.c.user_id)
                )
                .order_by(groups.c.name, users.c.username)
            ).all()
        found: dict[str, list[str]] = {}
        for name, username in rows:
            found.setdefault(name, [])
            if username:
                found[name].append(username)
        return found

    def group_grant(self, kind: str, resource: str, user_id: int) -> str | None:
        """The best permission any of the user's groups has on the resource."""
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(group_permissions.c.permission)
                .select_from(
                    group_permissions.join(
                        group_members, group_members.c.group_id == group_permissions.c.group_id
                    )
                )
                .where(
                    group_members.c.user_id == user_id,
                    group_permissions.c.kind == kind,
                    group_permissions.c.resource == resource,
                )
            ).scalars()
            best = max(rows, key=lambda p: RANK[p], default=None)
        return None if best is None else str(best)

    # -- audit log ------------------------------------------------------------------------------
    def note(self, username: str | None, method: str, path: str, status: int, client: str) -> None:
        """Remember a write; ``flush_audit`` saves them (a batch, off the request path)."""
        entry = {
            "time_ms": _now_ms(),
            "username": username,
            "method": method,
            "path": path[:2048],
            "status": status,
            "client": client[:255],
        }
        with self._audit_lock:
            self._audit.append(entry)

    def flush_audit(self) -> int:
        with self._audit_lock:
            pending, self._audit = self._audit, []
        if pending:
            with self._tx(write=True) as conn:
                conn.execute(audit_log.insert(), pending)
        return len(pending)

    def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        self.flush_audit()
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]
