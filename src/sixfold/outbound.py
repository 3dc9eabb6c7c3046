"""Fetching addresses people type, without letting them reach inside the network (SSRF).

The composer's link previews and the news-feed reader both fetch URLs a person typed. Their
connections go through `public_only_client`, which checks the address AFTER the name is
resolved, as the connection is made: a name that resolves differently a moment later (DNS
rebinding) or a redirect that leads inward cannot slip past a check made earlier. Private,
loopback, link-local (cloud metadata at 169.254.169.254), shared, reserved and multicast
addresses are refused unless the installation allows them (an intranet, a test server).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from typing import Any

import httpcore
import httpx

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The name resolves only to addresses that are not on the public internet."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} is a private or local address")
        self.host = host


def is_public_address(address: str | IPAddress) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local…)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address are judged by the address they carry.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


class _PublicOnlyBackend(httpcore.SyncBackend):
    """Resolves the name itself and connects only to an address it has just checked."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"the name {host} could not be looked up") from error
        addresses = [str(info[4][0]) for info in found]
        allowed = [a for a in addresses if self.allow_private or is_public_address(a)]
        if not allowed:
            raise AddressRefused(host)
        return super().connect_tcp(allowed[0], port, timeout, local_address, socket_options)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_private: bool) -> None:
        super().__init__(retries=0)
        # httpx has no setting for the network backend, so the pool it built is replaced by
        # one whose connections go through the address check.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_PublicOnlyBackend(allow_private=allow_private),
        )


def public_only_client(
    *, allow_private: bool, timeout: float, headers: Mapping[str, str]
) -> httpx.Client:
    """A client for URLs people typed: no redirects followed for you (check each hop's URL),
    no proxy from the environment, every connection to a checked public address."""
    return httpx.Client(
        transport=_GuardedTransport(allow_private=allow_private),
        timeout=timeout,
        headers=dict(headers),
        trust_env=False,
        follow_redirects=False,
    )
