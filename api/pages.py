"""What every dashboard page shares: the templates, the signed-in owner with its CSRF check, rendering, redirects.

Route modules import these rather than each other (tests/test_layers.py keeps route modules apart).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from docagent.api.deps import CSRF_FIELD, SAFE_METHODS, SettingsDep, check_csrf, current_owner, same_origin
from docagent.errors import NotSignedIn
from docagent.service.lifecycle import FINAL, RETRYABLE, UNFINISHED, WORKING

TEMPLATES = Path(str(resources.files("docagent.templates"))) / "dashboard"
templates = Jinja2Templates(directory=str(TEMPLATES))


async def page_owner(request: Request, settings: SettingsDep) -> str:
    """Like the API's owner, but a browser without a session is sent to the login page, and
    every form that changes something must carry the session's CSRF token."""
    try:
        owner = current_owner(request, settings)
    except NotSignedIn:
        raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": "/login"}) from None
    if request.method not in SAFE_METHODS:
        same_origin(request)
        check_csrf(request, (await request.form()).get(CSRF_FIELD))
    return owner


PageOwner = Annotated[str, Depends(page_owner)]


def page(request: Request, name: str, owner: str, code: int = 200, **context: Any) -> HTMLResponse:
    csrf = getattr(request.state, "csrf", "")
    statuses = {"final": FINAL, "unfinished": UNFINISHED, "working": WORKING, "retryable": RETRYABLE}
    return templates.TemplateResponse(
        request, name, {"owner": owner, **statuses, "csrf_token": csrf, **context}, status_code=code
    )


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


__all__ = ["TEMPLATES", "PageOwner", "page", "page_owner", "see_other", "templates"]
