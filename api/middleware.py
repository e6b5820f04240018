"""ASGI middleware: request bodies bounded while they are read, and browser security headers.

Both are plain ASGI (no BaseHTTPMiddleware), so streamed responses such as server-sent
events pass through untouched.
"""

from __future__ import annotations

import json
from typing import Any

from docagent.api.problems import MEDIA_TYPE, problem, status_for
from docagent.api.services.datasets import SLACK, too_large
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


class BodyLimit:
    """Refuse a body over the limit: by Content-Length before reading, or by a running count
    for chunked bodies, so nothing past the limit is read, parsed or spooled to disk.

    Past the limit the app is told the client went away (so it stops reading), its answer to
    the cut-off body is dropped, and the client gets 413.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = get_settings().max_upload_bytes
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit + SLACK:
            await _refuse(scope, send, limit)
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
            await _refuse(scope, send, limit)


async def _refuse(scope: Scope, send: Any, limit: int) -> None:
    error = too_large(limit)
    body = json.dumps(problem(error, scope["path"])).encode()
    headers = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body stays unread: the server drops the connection
    ]
    await send({"type": "http.response.start", "status": status_for(error), "headers": headers})
    await send({"type": "http.response.body", "body": body})


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


__all__ = ["BodyLimit", "SecurityHeaders"]
