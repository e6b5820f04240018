"""Dependencies as named aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from docagent.settings import Settings, get_settings
from docagent.storage import Storage, get_storage


def current_owner(settings: Annotated[Settings, Depends(get_settings)]) -> str:
    return settings.owner  # API keys (hardening) replace this with the key's owner


def storage(settings: Annotated[Settings, Depends(get_settings)]) -> Storage:
    return get_storage(settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]
OwnerDep = Annotated[str, Depends(current_owner)]
StorageDep = Annotated[Storage, Depends(storage)]
