"""Dependencies as named aliases: settings, the signed-in owner, storage."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request, status
from itsdangerous import BadSignature, URLSafeTimedSerializer

from docagent.keys import owner_of, secret_key
from docagent.settings import Settings, get_settings
from docagent.storage import Storage, get_storage
from docagent.store import session

T = TypeVar("T")
SESSION_COOKIE = "docagent_session"


def sessions(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(settings), salt="docagent-session")


def session_owner(request: Request, settings: Settings) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        data = sessions(settings).loads(token, max_age=settings.session_max_age_s)
    except BadSignature:
        return None
    # the session carries the key itself (signed, HttpOnly): a revoked key ends its sessions
    return owner_of(str(data.get("key", "")), settings)


def current_owner(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> str:
    if settings.auth == "off":
        return settings.owner
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        owner = owner_of(header[7:].strip(), settings)
        if owner is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key", {"WWW-Authenticate": "Bearer"}
            )
        return owner
    owner = session_owner(request, settings)
    if owner is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send 'Authorization: Bearer KEY' (create one with 'docagent keys create --name NAME')",
            {"WWW-Authenticate": "Bearer"},
        )
    return owner


def owned_or_404(model: type[T], row_id: str, owner: str, settings: Settings, what: str) -> T:
    """The row if it exists and belongs to `owner`; another owner's object is "not found", never "forbidden"."""
    with session(settings) as s:
        row = s.get(model, row_id)
    if row is None or getattr(row, "owner", None) != owner:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")
    return row


def storage(settings: Annotated[Settings, Depends(get_settings)]) -> Storage:
    return get_storage(settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]
OwnerDep = Annotated[str, Depends(current_owner)]
StorageDep = Annotated[Storage, Depends(storage)]
