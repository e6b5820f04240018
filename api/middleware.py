"""ASGI middleware: callers identified before their body is read, bodies bounded while they
are read, and browser security headers.

All are plain ASGI (no BaseHTTPMiddleware), so streamed responses such as server-sent
events pass through untouched.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from docagent.api.deps import SAFE_METHODS, current_owner
from docagent.api.pages import page
from docagent.api.problems import MEDIA_TYPE, headers_for, problem, status_for
from docagent.api.services.datasets import SLACK, too_large
from docagent.errors import DocagentError, Forbidden, NotSignedIn, UploadTooLarge
from docagent.settings import get_settings

Scope = dict[str, Any]
Message = dict[str, Any]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
API_DOCS = ("/docs", "/redoc")  # FastAPI's own pages load their scripts from a CDN


OPEN_PATHS = ("/login",)  # the sign-in form carries the key in its (size-limited) body


class Authenticate:
    """Refuse a request that may carry a body unless its headers already say who sends it.

    The API key, or the session cookie with its Origin (and, on /v1, its X-CSRF-Token header),
    and auth-off mode's loopback, Host and Origin checks are all in the headers: a stranger's
    body is never read, parsed or spooled. The route's own dependency checks again, with the
    form's CSRF token where the token is in the body.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            # a key lookup is a database query: off the event loop
            await run_in_threadpool(current_owner, request, get_settings())
        except (NotSignedIn, Forbidden) as error:
            await _refusal(request, error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _refusal(request: Request, error: DocagentError) -> Any:
    """What the route's own dependency would answer: problem+json on /v1, else the login or an error page."""
    if not scope_is_api(request):
        if isinstance(error, NotSignedIn):
            return Redirect("/login")
        return page(request, "error.html", "", status_for(error), title="Not allowed", detail=str(error))
    body = json.dumps(problem(error, request.url.path)).encode()
    return Raw(status_for(error), body, {**headers_for(error), "content-type": MEDIA_TYPE, "connection": "close"})


def scope_is_api(request: Request) -> bool:
    return request.url.path.startswith("/v1/") or request.url.path == "/v1"


class Raw:
    """A complete answer sent without reading the request's body."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status, self.body = status, body
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.headers.append((b"content-length", str(len(body)).encode()))

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


class Redirect(Raw):
    def __init__(self, location: str) -> None:
        super().__init__(303, b"", {"location": location, "connection": "close"})


class BodyLimit:
    """Refuse a body over the limit: by Content-Length before reading, or by a running count
    for chunked bodies, so nothing past the limit is read, parsed or spooled to disk.

    File uploads (multipart) may be as large as DOCAGENT_MAX_UPLOAD_BYTES; every other body
    (JSON, a form's fields) is parsed whole in memory, so it gets the far smaller
    DOCAGENT_MAX_BODY_BYTES.

    Past the limit the app is told the client went away (so it stops reading), its answer to
    the cut-off body is dropped, and the client gets 413.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        settings = get_settings()
        limit = settings.max_upload_bytes if upload else settings.max_body_bytes
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit + SLACK:
            await _refuse(scope, send, limit, upload)
            return
        seen, cut, started = 0, False, False

        async def counted() -> Message:
            nonlocal seen, cut
            if cut:
                return {"type": "http.disconnect"}
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit + SLACK:
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if cut:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not cut:
                raise
        if cut and not started:
            await _refuse(scope, send, limit, upload)


async def _refuse(scope: Scope, send: Any, limit: int, upload: bool) -> None:
    error = too_large(limit) if upload else body_too_large(limit)
    body = json.dumps(problem(error, scope["path"])).encode()
    headers = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body stays unread: the server drops the connection
    ]
    await send({"type": "http.response.start", "status": status_for(error), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def body_too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"request body exceeds the limit of {limit / 2**20:g} MiB for JSON and form fields "
        "(DOCAGENT_MAX_BODY_BYTES); send files as multipart uploads"
    )


class SecurityHeaders:
    """No framing, no sniffing, no referrer across sites, and a CSP that allows only our own files."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(HEADERS)
        if not scope["path"].startswith(API_DOCS):
            extra.append((b"content-security-policy", CSP.encode()))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


__all__ = ["Authenticate", "BodyLimit", "SecurityHeaders"]
