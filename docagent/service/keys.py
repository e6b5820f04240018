"""API keys: created once, shown once, stored as a SHA-256 (keys are random, so no slow hash is needed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from docagent.errors import InvalidApiKey
from docagent.service.store import ApiKeyRow, SessionRow, now, session
from docagent.settings import Settings, get_settings

PREFIX = "dak_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(name: str, settings: Settings | None = None) -> str:
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidApiKey("a key needs a name of 1 to 64 characters")
    key = PREFIX + secrets.token_urlsafe(32)
    try:
        with session(settings) as s:
            s.add(ApiKeyRow(name=name, prefix=key[:10], hash=digest(key)))
    except IntegrityError:
        raise InvalidApiKey(f"a key named {name!r} exists already; revoke it or choose another name") from None
    return key


def owner_of(key: str, settings: Settings | None = None) -> str | None:
    """The owner for a presented key, or None (unknown or revoked)."""
    if not key.startswith(PREFIX):
        return None
    wanted = digest(key)
    with session(settings) as s:
        row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.hash == wanted)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.hash, wanted):
        return None
    return row.name


def list_keys(settings: Settings | None = None) -> list[ApiKeyRow]:
    with session(settings) as s:
        return list(s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)))


def revoke_key(name: str, settings: Settings | None = None) -> None:
    with session(settings) as s:
        row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.name == name)).first()
        if row is None:
            raise InvalidApiKey(f"no key named {name!r}")
        row.revoked_at = now()
        # sessions signed in with this key end with it (the session lookup checks the key too)
        s.execute(update(SessionRow).where(SessionRow.key_id == row.id).values(revoked_at=row.revoked_at))


def secret_key(settings: Settings | None = None) -> str:
    """The server secret for signed cookies: from settings, else generated once under var_dir."""
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.var_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
