"""Who the client is behind a reverse proxy: forwarded headers believed from trusted proxies only.

Anyone can write X-Forwarded-For; believing it from any peer would let a client pick a fresh
address, and so a fresh rate-limit budget, for every request. The header is read only when the
peer is one of SYMBIOSE_TRUSTED_PROXIES, and then right to left: the first address that is not a
trusted proxy is the client (the left part is whatever the client itself wrote).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """Networks from "10.0.0.1, 10.1.0.0/16"; a bad entry is a configuration error at start."""
    networks = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"SYMBIOSE_TRUSTED_PROXIES: {item!r} is not an address") from exc
    return tuple(networks)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _forwarded_for(headers: Headers) -> list[str]:
    """The hops the proxies recorded, nearest last: X-Forwarded-For, else RFC 7239 Forwarded."""
    hops = [h.strip() for v in headers.getlist("x-forwarded-for") for h in v.split(",")]
    if hops:
        return [h for h in hops if h]
    for value in headers.getlist("forwarded"):
        for element in value.split(","):
            for pair in element.split(";"):
                name, _, token = pair.strip().partition("=")
                if name.lower() == "for" and token:
                    hops.append(_strip_port(token.strip().strip('"')))
    return hops


def _strip_port(node: str) -> str:
    if node.startswith("["):  # "[2001:db8::1]:4711"
        return node[1 : node.find("]")] if "]" in node else node
    host, sep, port = node.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else node


def client_address(peer: str, hops: Iterable[str], networks: tuple[Network, ...]) -> str:
    """The client's address: the peer itself unless it is a trusted proxy."""
    address = peer
    if not _is_trusted(address, networks):
        return address
    for hop in reversed(list(hops)):
        address = hop
        if not _is_trusted(hop, networks):
            break
    return address


class TrustedProxyMiddleware:
    """Rewrites the client address (and scheme) from the forwarded headers of a trusted peer."""

    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.app = app
        self.networks = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.networks and scope["type"] == "http" and scope.get("client"):
            peer = scope["client"][0]
            if _is_trusted(peer, self.networks):
                headers = Headers(scope=scope)
                scope["client"] = (client_address(peer, _forwarded_for(headers), self.networks), 0)
                proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)
