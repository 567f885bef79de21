"""The one guarded HTTP client for every URL the server fetches or calls.

Rules, all on by default: https only; the host is resolved once and the connection goes to
the checked address (no DNS rebinding between check and connect); loopback, private,
link-local (cloud metadata 169.254.169.254 included), multicast, unspecified, reserved and
other non-global addresses are refused, IPv4-mapped IPv6 included; every redirect is checked
again; timeouts and a size limit apply. `allow_private` (serve --allow-private-urls) lifts
the address rule and allows plain http, for local development and tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import pathlib
import socket
import urllib.parse
from dataclasses import dataclass

import httpx

MAX_REDIRECTS = 5


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


def check_url_shape(url: str, policy: OutboundPolicy) -> urllib.parse.SplitResult:
    """Scheme and host checks that need no DNS (so the API can refuse at creation)."""
    parts = urllib.parse.urlsplit(url)
    http = policy.allow_private if policy.allow_http is None else policy.allow_http
    allowed = ("https", "http") if http else ("https",)
    if parts.scheme.lower() not in allowed:
        raise BlockedURL(f"{url!r}: only {' and '.join(allowed)} URLs are allowed")
    if not parts.hostname:
        raise BlockedURL(f"{url!r}: the URL has no host")
    if not policy.allow_private:
        literal = _literal_address(parts.hostname)
        if parts.hostname.lower() in ("localhost", "localhost.localdomain") or (
            literal is not None and not _is_public(literal)
        ):
            raise BlockedURL(f"{url!r}: private, loopback and link-local addresses are not allowed")
    return parts


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:  # decimal, octal and short IPv4 spellings (2130706433, 0177.0.0.1, 127.1)
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


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
