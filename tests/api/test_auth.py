"""API keys, passwords and operator login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from api.auth import (
    authenticate,
    create_api_key,
    create_operator,
    disable_operator,
    hash_key_secret,
    hash_password,
    login_operator,
    purge_expired_sessions,
    revoke_api_key,
    set_operator_password,
    verify_secret,
)
from api.models import ApiKey, Driver, Role

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_a_created_key_authenticates_with_its_role(session: Session) -> None:
    """The printed key finds its row; the row stores a hash, not the secret."""
    issued = create_api_key(session, Role.PHONE, name="asterisk")
    session.commit()
    secret = issued.plaintext.split("_", 2)[2]
    assert secret not in issued.row.secret_hash
    found = authenticate(session, issued.plaintext, NOW)
    assert found is not None and found.role == "phone" and found.name == "asterisk"


def test_keys_are_unique_and_long(session: Session) -> None:
    """Two keys never collide and carry at least 256 bits of secret."""
    first = create_api_key(session, Role.ANALYST).plaintext
    second = create_api_key(session, Role.ANALYST).plaintext
    assert first != second
    assert len(first.split("_", 2)[2]) >= 43  # 32 random bytes, base64


@pytest.mark.parametrize(
    "presented",
    [None, "", "kc", "kc__", "Bearer x", "kc_0000000000000000_wrong", "xx_{id}_{secret}", "kc_{id}_wrong"],
)
def test_wrong_or_malformed_keys_are_refused(session: Session, presented: str | None) -> None:
    """Anything but the exact key gives None, never an exception."""
    issued = create_api_key(session, Role.ADMIN)
    session.commit()
    _, key_id, secret = issued.plaintext.split("_", 2)
    if presented is not None:
        presented = presented.format(id=key_id, secret=secret)
    assert authenticate(session, presented, NOW) is None


def test_revoked_keys_stop_working_but_stay_listed(session: Session) -> None:
    """Revoking keeps the row for the audit and refuses the key from then on."""
    issued = create_api_key(session, Role.PHONE)
    session.commit()
    assert revoke_api_key(session, issued.row.key_id, NOW)
    session.commit()
    assert authenticate(session, issued.plaintext, NOW) is None
    assert issued.row.revoked_at == NOW
    assert not revoke_api_key(session, "no-such-key", NOW)


def test_expired_keys_are_refused(session: Session) -> None:
    """A key with an expiry works until that instant and not after."""
    issued = create_api_key(session, Role.OPERATOR, expires_at=NOW + timedelta(hours=1))
    session.commit()
    assert authenticate(session, issued.plaintext, NOW) is not None
    assert authenticate(session, issued.plaintext, NOW + timedelta(hours=1)) is None


def test_driver_keys_speak_for_one_driver(session: Session) -> None:
    """A driver key remembers which driver it belongs to."""
    session.add(Driver(id="d7"))
    session.flush()  # no ORM relationships: parents are flushed before rows that point at them
    issued = create_api_key(session, Role.DRIVER, driver_id="d7")
    session.commit()
    found = authenticate(session, issued.plaintext, NOW)
    assert found is not None and found.driver_id == "d7"


def test_operator_login_gives_a_short_lived_key_of_the_account_role(session: Session) -> None:
    """A right password gives a key that works until the session length runs out."""
    account = create_operator(session, "anna", "correct horse", role=Role.ADMIN, extension="101")
    session.commit()
    issued = login_operator(session, "anna", "correct horse", NOW, ttl_s=3600)
    assert issued is not None
    session.commit()
    found = authenticate(session, issued.plaintext, NOW + timedelta(minutes=59))
    assert found is not None and found.role == "admin" and found.operator_id == account.id
    assert authenticate(session, issued.plaintext, NOW + timedelta(minutes=61)) is None


def test_operator_login_refuses_wrong_password_unknown_name_and_disabled(session: Session) -> None:
    """Wrong password, unknown user and a disabled account all get None."""
    account = create_operator(session, "boris", "s3cret-pass")
    session.commit()
    assert login_operator(session, "boris", "s3cret-pasS", NOW, 60) is None
    assert login_operator(session, "nobody", "s3cret-pass", NOW, 60) is None
    account.disabled_at = NOW
    session.add(account)
    session.commit()
    assert login_operator(session, "boris", "s3cret-pass", NOW, 60) is None


def test_machine_roles_cannot_have_login_accounts(session: Session) -> None:
    """Phone and driver are roles for keys, not for people."""
    with pytest.raises(ValueError, match="machines"):
        create_operator(session, "pbx", "password123", role=Role.PHONE)


def test_password_hashes_are_salted_scrypt() -> None:
    """The same password hashes differently each time and verifies each time."""
    first, second = hash_password("hunter22"), hash_password("hunter22")
    assert first != second and first.startswith("scrypt$16384,8,1$")
    assert verify_secret("hunter22", first) and verify_secret("hunter22", second)
    assert not verify_secret("hunter23", first)


@pytest.mark.parametrize("encoded", ["", "garbage", "md5$1$a$b", "pbkdf2_sha256$x$a$b", "scrypt$1$%%$b"])
def test_malformed_hashes_never_verify(encoded: str) -> None:
    """A damaged stored hash is a refusal, not a crash."""
    assert not verify_secret("anything", encoded)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_key_hash_verifies_only_its_secret(secret: str, other: str) -> None:
    """A key hash accepts its own secret and refuses any different one."""
    encoded = hash_key_secret(secret)
    assert verify_secret(secret, encoded)
    assert verify_secret(other, encoded) == (other == secret)


def test_new_password_ends_old_sessions(session: Session) -> None:
    """After a password change the old password fails and keys from earlier logins stop working."""
    create_operator(session, "vera", "first-password")
    session.commit()
    issued = login_operator(session, "vera", "first-password", NOW, 3600)
    assert issued is not None
    assert set_operator_password(session, "vera", "second-password", NOW)
    session.commit()
    assert authenticate(session, issued.plaintext, NOW) is None
    assert login_operator(session, "vera", "first-password", NOW, 60) is None
    assert login_operator(session, "vera", "second-password", NOW, 60) is not None
    assert not set_operator_password(session, "nobody", "whatever-pass", NOW)


def test_disabling_ends_sessions_and_logins(session: Session) -> None:
    """A disabled account cannot log in and its open sessions end at once."""
    create_operator(session, "gleb", "gleb-password")
    session.commit()
    issued = login_operator(session, "gleb", "gleb-password", NOW, 3600)
    assert issued is not None
    assert disable_operator(session, "gleb", NOW)
    session.commit()
    assert authenticate(session, issued.plaintext, NOW) is None
    assert login_operator(session, "gleb", "gleb-password", NOW, 60) is None
    assert not disable_operator(session, "nobody", NOW)


def test_purge_removes_only_expired_login_keys(session: Session) -> None:
    """Expired session keys are deleted; machine keys (no expiry) stay even when revoked."""
    machine = create_api_key(session, Role.PHONE)
    old_login = create_api_key(session, Role.OPERATOR, expires_at=NOW - timedelta(days=2))
    live_login = create_api_key(session, Role.OPERATOR, expires_at=NOW + timedelta(hours=1))
    revoke_api_key(session, machine.row.key_id, NOW)
    session.commit()
    assert purge_expired_sessions(session, NOW - timedelta(days=1)) == 1
    session.commit()
    left = {key.key_id for key in session.exec(select(ApiKey))}
    assert left == {machine.row.key_id, live_login.row.key_id}
    assert old_login.row.key_id not in left
