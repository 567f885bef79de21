"""The one guarded HTTP client for every URL the server fetches or calls.

Rules, all on by default: https only; the host is resolved once and the connection goes to
the checked address (no DNS rebinding between check and connect); loopback, private,
link-local (cloud metadata 169.254.169.254 included), multicast, unspecified, reserved and
other non-global addresses are refused, and so are IPv6 spellings that carry one of them
(mapped, compatible, translated, NAT64, 6to4) and site-local IPv6; every redirect is checked
again; timeouts and a size limit apply. `allow_private` (serve --allow-private-urls) lifts
the address rule and allows plain http, for local development and tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import pathlib
import re
import socket
import urllib.parse
from dataclasses import dataclass

import httpx

MAX_REDIRECTS = 5
MAX_HOST_CHARS = 253
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
#: prefixes whose last 32 bits are an IPv4 address: IPv4-compatible (::a.b.c.d, the
#: deprecated form; :: and ::1 are checked as themselves first), IPv4-translated
#: (::ffff:0:a.b.c.d) and the well-known NAT64 prefix
_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(net) for net in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
#: refused whatever they carry: site-local (deprecated, routed like private space) and the
#: local-use NAT64 prefix, whose embedded address sits where each operator chooses
_REFUSED_V6 = tuple(ipaddress.IPv6Network(net) for net in ("fec0::/10", "64:ff9b:1::/48"))


class BlockedURL(ValueError):
    """A URL the guard refuses; the message says why."""


@dataclass(frozen=True)
class OutboundPolicy:
    """What outgoing requests may reach."""

    allow_private: bool = False
    #: plain http besides https; None means "when allow_private"
    allow_http: bool | None = None
    timeout_s: float = 30.0
    max_download_bytes: int = 100 * 1024 * 1024


def parse_url(url: str) -> urllib.parse.SplitResult:
    """The URL's parts if it is well-formed enough to connect to; BlockedURL saying what is
    wrong otherwise (urlsplit alone accepts hosts with spaces and ports past 65535)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:  # `[::1`, `[zzz]`, port `99999` or `x`
        raise BlockedURL(f"{url[:200]!r} is not a valid URL: {exc}") from exc
    host = parts.hostname
    if not host:
        raise BlockedURL(f"{url[:200]!r}: the URL has no host")
    if port is not None and not 1 <= port <= 65535:
        raise BlockedURL(f"{url[:200]!r}: the port must be from 1 to 65535")
    if _literal_address(host) is None and not _is_host_name(host):
        raise BlockedURL(f"{url[:200]!r}: {host[:100]!r} is not a valid host name")
    return parts


def _is_host_name(host: str) -> bool:
    """A DNS name (international names in their IDNA form) of at most 253 characters."""
    if len(host) > MAX_HOST_CHARS:
        return False
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return len(ascii_host) <= MAX_HOST_CHARS and all(
        _LABEL.match(label) for label in ascii_host.removesuffix(".").split(".")
    )


def check_url_shape(url: str, policy: OutboundPolicy) -> urllib.parse.SplitResult:
    """Syntax, scheme and host checks that need no DNS (so the API can refuse at creation)."""
    parts = parse_url(url)
    http = policy.allow_private if policy.allow_http is None else policy.allow_http
    allowed = ("https", "http") if http else ("https",)
    if parts.scheme.lower() not in allowed:
        raise BlockedURL(f"{url[:200]!r}: only {' and '.join(allowed)} URLs are allowed")
    host = parts.hostname or ""
    if not policy.allow_private:
        literal = _literal_address(host)
        if host.lower() in ("localhost", "localhost.localdomain") or (
            literal is not None and not _is_public(literal)
        ):
            raise BlockedURL(
                f"{url[:200]!r}: private, loopback and link-local addresses are not allowed"
            )
    return parts


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:  # decimal, octal and short IPv4 spellings (2130706433, 0177.0.0.1, 127.1)
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):  # ValueError: a NUL in the host
        return None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in net for net in _REFUSED_V6):
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 spelling carries (mapped, compatible, translated, NAT64,
    6to4, Teredo), which is where a connection to it ends up."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _LAST_32_BITS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def resolve(host: str, port: int, policy: OutboundPolicy) -> str:
    """One checked address for `host` (every resolved address must pass)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BlockedURL(f"can't resolve {host!r}: {exc.strerror}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not policy.allow_private and not all(_is_public(a) for a in addresses):
        raise BlockedURL(f"{host!r} resolves to a private, loopback or link-local address")
    return str(addresses[0])


class GuardedClient:
    """httpx underneath; each request is checked, pinned to its address, redirects re-checked."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self._http = httpx.AsyncClient(timeout=policy.timeout_s, follow_redirects=False)

    async def close(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, url: str, *, follow_redirects: bool = True, **kwargs: object
    ) -> httpx.Response:
        """Send a request; the response body is not read (use it as a stream or read it)."""
        for _ in range(MAX_REDIRECTS + 1):
            parts = check_url_shape(url, self.policy)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            address = await resolve(parts.hostname or "", port, self.policy)
            pinned = parts._replace(
                netloc=f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
            )
            headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
            headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            request = self._http.build_request(
                method,
                urllib.parse.urlunsplit(pinned),
                headers=headers,
                extensions={"sni_hostname": parts.hostname},
                **kwargs,  # type: ignore[arg-type]
            )
            response = await self._http.send(request, stream=True)
            if not (follow_redirects and response.is_redirect):
                return response
            await response.aclose()
            url = urllib.parse.urljoin(url, response.headers["location"])
            kwargs["headers"] = headers
        raise BlockedURL(f"more than {MAX_REDIRECTS} redirects")

    async def download(self, url: str, target: pathlib.Path) -> pathlib.Path:
        """Fetch `url` into the file `target`, within the size limit."""
        response = await self.request("GET", url)
        try:
            if response.status_code >= 400:
                raise BlockedURL(f"downloading {url} failed: HTTP {response.status_code}")
            size = 0
            with target.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.policy.max_download_bytes:
                        raise BlockedURL(
                            f"{url} is larger than the {self.policy.max_download_bytes} byte limit"
                        )
                    out.write(chunk)
        finally:
            await response.aclose()
        return target
