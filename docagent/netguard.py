"""Outbound URLs the server calls on a user's behalf (webhooks) reach public addresses only.

The host is resolved once and every address checked — loopback, link-local (cloud metadata),
private, shared, multicast, reserved and unspecified ranges are refused, also when hidden in
an IPv4-mapped, 6to4 or NAT64 IPv6 address, or spelled as a decimal, octal or hex number (the
resolver turns those into the address they mean). The caller connects to the checked address
itself, never re-resolving the name, so DNS rebinding cannot swap it between check and use.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from docagent.errors import ForbiddenDestination

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Destination:
    """A checked URL: connect to `address`, and send `host` as the Host header and TLS server name."""

    scheme: str
    host: str
    port: int
    address: str
    target: str  # path and query


def _embedded(ip: IPAddress) -> IPAddress | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip.teredo:
            return ip.teredo[1]
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    inner = _embedded(ip)
    if inner is not None and not is_public(inner):
        return False
    return ip.is_global and not ip.is_multicast


def allowed(ip: IPAddress, allow: list[str]) -> bool:
    """Public, or inside a network the operator listed (DOCAGENT_WEBHOOK_ALLOW, CIDR notation)."""
    if is_public(ip):
        return True
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allow)


def resolve(url: str, allow: list[str]) -> Destination:
    """The URL's first address if every address it resolves to is allowed; else ForbiddenDestination."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ForbiddenDestination("a webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise ForbiddenDestination("a webhook URL must not carry a user name or password")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ForbiddenDestination(f"the host {parts.hostname!r} does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    refused = [a for a in addresses if not allowed(a, allow)]
    if refused or not addresses:
        raise ForbiddenDestination(
            f"the host {parts.hostname!r} is not a public address (loopback, private, link-local, multicast "
            "and reserved ranges are refused; an operator may allow a network with DOCAGENT_WEBHOOK_ALLOW)"
        )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, parts.hostname, port, str(addresses[0]), target)


__all__ = ["Destination", "ForbiddenDestination", "allowed", "is_public", "resolve"]
