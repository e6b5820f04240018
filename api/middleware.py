"""ASGI middleware: request bodies bounded while they are read, and browser security headers.

Both are plain ASGI (no BaseHTTPMiddleware), so streamed responses such as server-sent
events pass through untouched.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException, status

from docagent.settings import get_settings

Scope = dict[str, Any]
Message = dict[str, Any]
SLACK = 64 * 1024  # multipart boundaries and small form fields around an upload of the full limit

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


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"upload exceeds the limit of {limit / 2**20:.0f} MiB (DOCAGENT_MAX_UPLOAD_BYTES)",
        )


class BodyLimit:
    """Refuse a body over the limit: by Content-Length before reading, or by a running count
    for chunked bodies, so nothing past the limit is read, parsed or spooled to disk."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = get_settings().max_upload_bytes
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit + SLACK:
            await _refuse(send, BodyTooLarge(limit))
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit + SLACK:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as e:
            if started:
                raise
            await _refuse(send, e)


async def _refuse(send: Any, error: HTTPException) -> None:
    body = json.dumps({"detail": error.detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body stays unread: the server drops the connection
    ]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
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


__all__ = ["BodyLimit", "BodyTooLarge", "SecurityHeaders"]
