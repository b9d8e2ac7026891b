"""Password hashing (argon2id, memory-hard) and the rules a password must meet."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from typing import Any

from mltrail.exceptions import InvalidParameter

MIN_PASSWORD_LENGTH = 12  # as MLflow's auth app since 2.22
TOKEN_PREFIX = "mlt_"
# A short list of passwords that meet the length rule and are still guessed first.
_COMMON = frozenset(
    {"password1234", "passwordpassword", "123456789012", "qwertyuiopas", "adminadminadmin",
     "changemechangeme", "letmeinletmein", "mlflowmlflow", "mltrailmltrail", "password1234!"}
)  # fmt: skip


@cache
def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError:
        raise InvalidParameter(
            "Authentication needs the argon2-cffi package: pip install 'mltrail[auth]'."
        ) from None
    # OWASP's argon2id floor: 19 MiB of memory, 2 passes. Verifications are cached per
    # worker (``middleware``), so HTTP basic auth does not pay this on every request.
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def check_password_strength(password: object, username: str = "") -> str:
    """The password if it is acceptable, else a 400 saying what is wrong."""
    if not isinstance(password, str) or not password:
        raise InvalidParameter("The password is empty: choose one of 12 characters or more.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidParameter(
            f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters."
        )
    lowered = password.lower()
    if len(set(password)) < 4 or lowered in _COMMON or (username and username.lower() in lowered):
        raise InvalidParameter(
            "The password is too easy to guess (a common password, few different characters, "
            "or the user name in it): choose another."
        )
    return password


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so that the answer takes as long
    as for a wrong password and does not tell which user names exist."""
    return hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    """A personal API token, shown once: 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are random and long, so a plain SHA-256 is the right stored form (a lookup key)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
