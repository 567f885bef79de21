"""The guard on every outgoing request: SSRF targets are refused, redirects re-checked."""

from __future__ import annotations

import http.server
import ipaddress
import threading
from collections.abc import Iterator

import pytest

from foretell import outbound
from foretell.outbound import BlockedURL, GuardedClient, OutboundPolicy, check_url_shape

STRICT = OutboundPolicy()

REFUSED = [
    "http://example.com/a.png",  # plain http
    "ftp://example.com/a.png",
    "https://localhost/x",
    "https://127.0.0.1/x",
    "https://127.1/x",
    "https://2130706433/x",  # 127.0.0.1 in decimal
    "https://0177.0.0.1/x",  # in octal
    "https://0x7f000001/x",  # in hex
    "https://0.0.0.0/x",
    "https://[::1]/x",
    "https://[::]/x",
    "https://[::ffff:127.0.0.1]/x",  # IPv4-mapped IPv6
    "https://[::ffff:169.254.169.254]/x",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://10.0.0.8/x",
    "https://172.16.3.4/x",
    "https://192.168.1.1/x",
    "https://100.64.0.1/x",  # carrier-grade NAT
    "https://224.0.0.1/x",  # multicast
    "https://[fe80::1]/x",  # link-local v6
    "https://[fc00::1]/x",  # unique local v6
    "https:///nohost",
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused_targets(url: str) -> None:
    """Loopback, private, link-local, metadata and odd spellings of them are refused."""
    with pytest.raises(BlockedURL):
        check_url_shape(url, STRICT)


EMBEDDED_V4 = [
    "https://[::127.0.0.1]/x",  # IPv4-compatible
    "https://[::7f00:1]/x",  # the same, in hex
    "https://[::10.0.0.1]/x",
    "https://[64:ff9b::127.0.0.1]/x",  # NAT64, well-known prefix
    "https://[64:ff9b::a9fe:a9fe]/x",  # NAT64 of 169.254.169.254
    "https://[64:ff9b:1::8.8.8.8]/x",  # local-use NAT64: refused whatever it carries
    "https://[64:ff9b:1:ff::7f00:1]/x",
    "https://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
    "https://[2002:a9fe:a9fe::1]/x",  # 6to4 of 169.254.169.254
    "https://[2002:c0a8:101::]/x",  # 6to4 of 192.168.1.1
    "https://[::ffff:0:127.0.0.1]/x",  # IPv4-translated
    "https://[::ffff:0:a00:1]/x",  # IPv4-translated 10.0.0.1, in hex
    "https://[fec0::1]/x",  # site-local
    "https://[fec0::8.8.8.8]/x",
    "https://[feff:ffff::1]/x",  # the top of fec0::/10
]


@pytest.mark.parametrize("url", EMBEDDED_V4)
def test_ipv6_spellings_of_refused_ipv4_and_site_local_are_refused(url: str) -> None:
    """An IPv6 address carrying a refused IPv4 address, or site-local, is refused."""
    with pytest.raises(BlockedURL, match="private, loopback"):
        check_url_shape(url, STRICT)


@pytest.mark.parametrize(
    "url",
    ["https://[::8.8.8.8]/x", "https://[64:ff9b::8.8.8.8]/x", "https://[2002:808:808::]/x",
     "https://[::ffff:0:8.8.8.8]/x", "https://[2606:4700:4700::1111]/x"],
)  # fmt: skip
def test_ipv6_spellings_of_public_ipv4_pass(url: str) -> None:
    """The same spellings of a public IPv4 address pass: the IPv4 rule decides."""
    check_url_shape(url, STRICT)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://[::1", "not a valid URL"),
        ("https://[zzz]/", "not a valid URL"),
        ("https://exa mple.com/", "not a valid host name"),
        ("https://" + "a" * 100_000 + ".com/", "not a valid host name"),
        ("https://" + "a" * 64 + ".com/", "not a valid host name"),
        ("https://a\x00b.com/", "not a valid host name"),
        ("https://example.com:0/", "port must be from 1 to 65535"),
        ("https://example.com:65536/", "not a valid URL"),
        ("https://example.com:99999999999/", "not a valid URL"),
        ("https://example.com:http/", "not a valid URL"),
        ("https://user@/x", "no host"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url: str, why: str) -> None:
    """Malformed hosts and ports are a BlockedURL that says what is wrong."""
    with pytest.raises(BlockedURL, match=why):
        outbound.parse_url(url)


def test_international_names_pass() -> None:
    """A host name in another script passes (it is looked up in its IDNA form)."""
    check_url_shape("https://bücher.example/x", STRICT)
    check_url_shape("https://example.com:8443/x", STRICT)


def test_public_https_passes_the_shape_check() -> None:
    """An https URL to a public name or address is allowed through the shape check."""
    check_url_shape("https://example.com/cat.png", STRICT)
    check_url_shape("https://93.184.216.34/cat.png", STRICT)


async def test_names_resolving_to_private_addresses_are_refused() -> None:
    """DNS is checked too: a name that resolves to loopback is refused."""
    with pytest.raises(BlockedURL, match="private, loopback"):
        await outbound.resolve("localhost", 443, STRICT)


def test_allow_private_lifts_the_rules() -> None:
    """--allow-private-urls allows loopback and plain http (development and tests)."""
    check_url_shape("http://127.0.0.1:8000/a", OutboundPolicy(allow_private=True))


class _Redirector(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/ok":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"fine")
            return
        self.send_response(302)
        target = "/ok" if self.path == "/to-ok" else self.path.split("?to=", 1)[1]
        self.send_header("Location", target)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirector(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local server treated as public (a test seam), redirecting elsewhere."""
    real = outbound._is_public
    local = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(outbound, "_is_public", lambda a: a == local or real(a))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_allowed_redirect_is_followed(redirector: str) -> None:
    """A redirect to an allowed place is followed."""
    client = GuardedClient(OutboundPolicy(allow_http=True))
    try:
        response = await client.request("GET", f"{redirector}/to-ok")
        assert (await response.aread()) == b"fine"
        await response.aclose()
    finally:
        await client.close()


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.2]/",
        "http://2130706434/",
        "http://localhost/",
        "ftp://example.com/",
    ],
)
async def test_every_redirect_is_checked_again(redirector: str, target: str) -> None:
    """A redirect to any refused target is refused."""
    client = GuardedClient(OutboundPolicy(allow_http=True))
    try:
        with pytest.raises(BlockedURL):
            await client.request("GET", f"{redirector}/go?to={target}")
    finally:
        await client.close()
