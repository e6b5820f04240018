"""Dashboard sessions: an opaque random token in the cookie, the session row on the server.

The cookie carries no key material: it is worthless once the row expires, is revoked at
sign-out, or its API key is revoked. Each session has its own CSRF token for forms.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from docagent.service.keys import PREFIX, digest
from docagent.service.store import ApiKeyRow, SessionRow, now, session
from docagent.settings import Settings, get_settings


@dataclass(frozen=True)
class SignedIn:
    owner: str
    csrf: str


def _id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(key: str, settings: Settings | None = None) -> str | None:
    """A new session token for a valid key, or None for an unknown or revoked one."""
    settings = settings or get_settings()
    if not key.startswith(PREFIX):
        return None
    at = now()
    token = secrets.token_urlsafe(32)
    with session(settings) as s:
        row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.hash == digest(key))).first()
        if row is None or row.revoked_at is not None:
            return None
        s.execute(delete(SessionRow).where(SessionRow.expires_at < at))  # housekeeping, bounded by sign-ins
        s.add(
            SessionRow(
                id=_id(token),
                key_id=row.id,
                csrf=secrets.token_urlsafe(32),
                created_at=at,
                expires_at=at + dt.timedelta(seconds=settings.session_max_age_s),
            )
        )
    return token


def signed_in(token: str, settings: Settings | None = None) -> SignedIn | None:
    """The owner and CSRF token of a live session; None when unknown, expired, signed out or its key revoked."""
    if not token:
        return None
    with session(settings) as s:
        found = s.execute(
            select(SessionRow, ApiKeyRow.name)
            .join(ApiKeyRow, ApiKeyRow.id == SessionRow.key_id)
            .where(SessionRow.id == _id(token), SessionRow.revoked_at.is_(None), ApiKeyRow.revoked_at.is_(None))
        ).first()
    if found is None:
        return None
    row, owner = found
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    if expires <= now():  # the lookup was by hash of a 256-bit token: no timing oracle to close
        return None
    return SignedIn(owner, row.csrf)


def close_session(token: str, settings: Settings | None = None) -> None:
    with session(settings) as s:
        s.execute(update(SessionRow).where(SessionRow.id == _id(token)).values(revoked_at=now()))


__all__ = ["SignedIn", "close_session", "open_session", "signed_in"]
