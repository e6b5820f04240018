"""Dependencies as named aliases: settings, the signed-in owner, storage."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from docagent.errors import NotSignedIn
from docagent.keys import owner_of, secret_key
from docagent.settings import Settings, get_settings
from docagent.storage import Storage, get_storage

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
            raise NotSignedIn("invalid or revoked API key")
        return owner
    owner = session_owner(request, settings)
    if owner is None:
        raise NotSignedIn(
            "missing API key: send 'Authorization: Bearer KEY' (create one with 'docagent keys create --name NAME')"
        )
    return owner


def storage(settings: Annotated[Settings, Depends(get_settings)]) -> Storage:
    return get_storage(settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]
OwnerDep = Annotated[str, Depends(current_owner)]
StorageDep = Annotated[Storage, Depends(storage)]
