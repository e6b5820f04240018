"""Dependencies as named aliases: settings, the signed-in owner, storage; the browser-facing checks."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from docagent.errors import Forbidden, NotSignedIn
from docagent.service.keys import owner_of, secret_key
from docagent.service.sessions import signed_in
from docagent.service.storage import Storage, get_storage
from docagent.settings import Settings, get_settings

SESSION_COOKIE = "docagent_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")  # as the Host header spells them
# what a reverse proxy adds: any of them means the request came from somewhere else
PROXY_HEADERS = ("forwarded", "x-real-ip", "true-client-ip", "cf-connecting-ip", "client-ip", "via")


def proxied(request: Request) -> bool:
    """True when a proxy says it passed this request on (Forwarded, X-Real-IP, any X-Forwarded-*, ...)."""
    return any(name in PROXY_HEADERS or name.startswith("x-forwarded-") for name in request.headers)


def from_loopback(request: Request) -> bool:
    """A direct connection from this machine: loopback peer, and no proxy in between."""
    return bool(request.client) and request.client.host in LOOPBACK and not proxied(request)  # type: ignore[union-attr]


def loopback_host(request: Request) -> bool:
    """The Host the browser asked for is a loopback name: a rebound DNS name (evil.example -> 127.0.0.1) is not."""
    host = request.headers.get("host", "").lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in LOOPBACK_HOSTS


def same_origin(request: Request) -> None:
    """A browser names the page a request comes from: refuse unless it is this server's own."""
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is not None:
        if origin != own:
            raise Forbidden(f"cross-origin request refused (Origin {origin})")
        return
    referer = request.headers.get("referer", "")
    if referer != own and not referer.startswith(own + "/"):
        raise Forbidden("request refused: no Origin or Referer from this server")


def loopback_only(request: Request) -> None:
    """DOCAGENT_AUTH=off serves only connections made to and from loopback, however the server was started,
    for pages on loopback: a browser tricked into calling it under another name (DNS rebinding) or
    from another site is refused."""
    server = request.scope.get("server")
    local = server[0] if server else ""
    if local not in LOOPBACK or not from_loopback(request):
        raise Forbidden(
            "DOCAGENT_AUTH=off serves loopback only: this server is reachable on a network address "
            "(or through a proxy); turn auth on and use an API key"
        )
    if not loopback_host(request):
        raise Forbidden(
            f"DOCAGENT_AUTH=off answers only to loopback names (127.0.0.1, localhost, [::1]), "
            f"not Host {request.headers.get('host', '')[:80]!r}"
        )
    if "origin" in request.headers:
        same_origin(request)  # with a loopback Host, this is a page of this very server


def session_owner(request: Request, settings: Settings) -> str | None:
    found = signed_in(request.cookies.get(SESSION_COOKIE, ""), settings)
    if found is None:
        return None
    request.state.csrf = found.csrf
    return found.owner


def auth_off_csrf(settings: Settings) -> str:
    """Without sessions, forms carry a token derived from the server secret (unreadable cross-origin)."""
    return hmac.new(secret_key(settings).encode(), b"auth-off-csrf", hashlib.sha256).hexdigest()


def check_csrf(request: Request, token: object) -> None:
    expected = getattr(request.state, "csrf", None)
    if not expected or not isinstance(token, str) or not hmac.compare_digest(token, expected):
        raise Forbidden("missing or wrong CSRF token: reload the page and try again")


def current_owner(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> str:
    if settings.auth == "off":
        loopback_only(request)  # a page elsewhere must not drive a local server either
        request.state.csrf = auth_off_csrf(settings)
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
    if request.method not in SAFE_METHODS:
        # a cookie rides along with any request the browser makes: prove the dashboard sent this one
        same_origin(request)
        if request.url.path.startswith("/v1/"):
            check_csrf(request, request.headers.get(CSRF_HEADER))
    return owner


def storage(settings: Annotated[Settings, Depends(get_settings)]) -> Storage:
    return get_storage(settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]
OwnerDep = Annotated[str, Depends(current_owner)]
StorageDep = Annotated[Storage, Depends(storage)]
