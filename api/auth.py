"""API keys and operator passwords: generated with `secrets`, stored salted and hashed.

A key looks like `kc_<key_id>_<secret>`. `key_id` (public, indexed) finds the
row; the secret is checked against its salted hash with a constant-time
comparison. Keys carry 256 random bits, so stretching them buys nothing and
would cost every request (the phone webhook's p99 target is 20 ms): they get
one fast PBKDF2 round set. Passwords are chosen by people and are guessable,
so they get scrypt at the strength OWASP recommends (n=2^14, r=8, p=1,
about 50 ms here), paid once per login.

Operators log in with a username and a password and receive a short-lived key
of their account's role, so the console and every other client go through
the same `authenticate` path. Hashes are self-describing strings
(`scheme$params$salt$hash`) so the cost can be raised later without a
migration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.models.access import ApiKey, OperatorAccount, Role

KEY_PREFIX = "kc"
KEY_PBKDF2_ROUNDS = 1_000
PASSWORD_SCRYPT = (2**14, 8, 1)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_key_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, KEY_PBKDF2_ROUNDS)
    return f"pbkdf2_sha256${KEY_PBKDF2_ROUNDS}${_b64(salt)}${_b64(digest)}"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(16) if salt is None else salt
    n, r, p = PASSWORD_SCRYPT
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n},{r},{p}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, encoded: str) -> bool:
    """True if `secret` hashes to `encoded`; a malformed `encoded` is simply False."""
    try:
        scheme, params, salt_text, digest_text = encoded.split("$")
        salt, expected = _unb64(salt_text), _unb64(digest_text)
        if scheme == "pbkdf2_sha256":
            actual = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, int(params))
        elif scheme == "scrypt":
            n, r, p = (int(part) for part in params.split(","))
            actual = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected))
        else:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _dummy_hash(kind: str) -> str:
    """A hash to verify against when the key id or username is unknown (equal timing)."""
    return hash_password("dummy") if kind == "password" else hash_key_secret("dummy")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created: `plaintext` exists only here, to be shown once."""

    row: ApiKey
    plaintext: str


def create_api_key(
    session: Session,
    role: Role,
    *,
    name: str = "",
    driver_id: str | None = None,
    operator_id: int | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Add a new key to the session (the caller commits) and return its only plaintext copy."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        key_id=key_id,
        secret_hash=hash_key_secret(secret),
        name=name,
        role=role.value,
        driver_id=driver_id,
        operator_id=operator_id,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return IssuedKey(row=row, plaintext=f"{KEY_PREFIX}_{key_id}_{secret}")


def authenticate(session: Session, presented: str | None, now: datetime) -> ApiKey | None:
    """The live key matching `presented`, or None (unknown, malformed, revoked or expired)."""
    parts = (presented or "").split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    row = session.exec(select(ApiKey).where(ApiKey.key_id == parts[1])).first()
    if row is None:
        verify_secret(parts[2], _dummy_hash("key"))  # same work whether or not the id exists
        return None
    if not verify_secret(parts[2], row.secret_hash):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return row


def key_is_live(session: Session, key_id: str, now: datetime) -> bool:
    """Whether a key verified once is still good: not revoked, expired, purged or its operator disabled.

    For connections that outlive one request (the console's websocket): they
    re-ask this every few seconds, by public id alone, so a revocation
    reaches them without re-hashing the secret each time.
    """
    row = session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if row is None or row.revoked_at is not None:
        return False
    if row.expires_at is not None and row.expires_at <= now:
        return False
    if row.operator_id is None:
        return True
    account = session.get(OperatorAccount, row.operator_id)
    return account is not None and account.disabled_at is None


def revoke_api_key(session: Session, key_id: str, now: datetime) -> bool:
    """Revoke by public id; False if there is no such key. Revoked keys stay for the audit."""
    row = session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)
    return True


def create_operator(
    session: Session,
    username: str,
    password: str,
    *,
    role: Role = Role.OPERATOR,
    display_name: str | None = None,
    extension: str | None = None,
) -> OperatorAccount:
    """Add a person who logs in to the console; only human roles may log in."""
    if role not in {Role.OPERATOR, Role.ANALYST, Role.ADMIN}:
        raise ValueError(f"role {role.value!r} is for machines, not for people who log in")
    account = OperatorAccount(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        display_name=display_name,
        extension=extension,
    )
    session.add(account)
    session.flush()
    return account


def login_operator(
    session: Session, username: str, password: str, now: datetime, ttl_s: float
) -> IssuedKey | None:
    """A short-lived key of the account's role for a correct password, else None."""
    account = _account(session, username)
    if account is None:
        verify_secret(password, _dummy_hash("password"))  # no timing hint that the name exists
        return None
    if not verify_secret(password, account.password_hash) or account.disabled_at is not None:
        return None
    return create_api_key(
        session,
        Role(account.role),
        name=f"login:{account.username}",
        operator_id=account.id,
        expires_at=now + timedelta(seconds=ttl_s),
    )


def _account(session: Session, username: str) -> OperatorAccount | None:
    return session.exec(select(OperatorAccount).where(OperatorAccount.username == username)).first()


def set_operator_password(session: Session, username: str, password: str, now: datetime) -> bool:
    """Replace a password and end every session issued under the old one; False if no such user."""
    account = _account(session, username)
    if account is None:
        return False
    account.password_hash = hash_password(password)
    session.add(account)
    _end_sessions(session, account, now)
    return True


def disable_operator(session: Session, username: str, now: datetime) -> bool:
    """Stop an account from logging in and end its sessions; the row stays for the audit."""
    account = _account(session, username)
    if account is None:
        return False
    if account.disabled_at is None:
        account.disabled_at = now
        session.add(account)
    _end_sessions(session, account, now)
    return True


def _end_sessions(session: Session, account: OperatorAccount, now: datetime) -> None:
    live = session.exec(
        select(ApiKey).where(ApiKey.operator_id == account.id, col(ApiKey.revoked_at).is_(None))
    )
    for key in live:
        key.revoked_at = now
        session.add(key)


def purge_expired_sessions(session: Session, before: datetime) -> int:
    """Delete login keys that expired before `before` (each login adds one); returns how many.

    Long-lived machine keys have no expiry and are never purged, revoked or not,
    so the audit of who held which key survives.
    """
    result = session.execute(
        delete(ApiKey).where(col(ApiKey.expires_at).is_not(None), col(ApiKey.expires_at) < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
