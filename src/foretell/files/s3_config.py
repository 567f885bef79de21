"""What an `s3://bucket[/prefix][?endpoint=URL&region=NAME&presign=false]` URL and the
environment say about where the S3 FileStore keeps its files.

The environment is read as AWS tools read it: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL
(an S3-compatible server: MinIO, moto, R2); AWS_REGION, else AWS_DEFAULT_REGION. A value on
the URL wins over the environment: the URL is what this server was told to use, the
environment is what the machine happens to have. Credentials are never taken from the URL
(it is logged and shown); obstore reads them from the environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or the machine's role.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from foretell.files.protocol import InvalidKey, check_key

EXAMPLE = "s3://BUCKET[/PREFIX][?endpoint=http://127.0.0.1:9000&region=us-east-1]"
_OPTIONS = ("endpoint", "region", "presign")
_ENDPOINT_VARS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
_REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class S3Location:
    """A bucket, the key prefix inside it, and how to reach it (None: obstore's default,
    AWS itself)."""

    bucket: str
    prefix: str | None
    endpoint: str | None
    region: str | None
    #: whether `signed_url` answers with the server's presigned URL (False where clients
    #: can't reach the endpoint: the API then signs and serves the files itself)
    presign: bool = True

    def describe(self) -> str:
        """Where the files are, for error messages (never a credential)."""
        where = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        return f"{where} at {self.endpoint or 'AWS'}"


def parse_s3_url(url: str, env: Mapping[str, str] | None = None) -> S3Location:
    """The location an `s3://` URL names, with `env` (default: os.environ) filling in what
    the URL leaves out; ValueError saying what is wrong otherwise."""
    env = os.environ if env is None else env
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "s3":
        raise ValueError(f"{url!r} is not an s3:// URL; use {EXAMPLE}")
    if "@" in parts.netloc:
        raise ValueError(
            "an s3:// URL takes no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if not parts.netloc:
        raise ValueError(f"{url!r} names no bucket; use {EXAMPLE}")
    if parts.fragment:
        raise ValueError(f"{url!r}: an s3:// URL takes no #fragment; use {EXAMPLE}")
    query = _query(url, parts.query)
    endpoint = query.get("endpoint") or _first(env, _ENDPOINT_VARS)
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise ValueError(f"the S3 endpoint {endpoint!r} is not an http:// or https:// URL")
    return S3Location(
        bucket=parts.netloc,
        prefix=_prefix(url, parts.path),
        endpoint=endpoint.rstrip("/") if endpoint else None,
        region=query.get("region") or _first(env, _REGION_VARS),
        presign=_boolean("presign", query.get("presign", "true")),
    )


def _query(url: str, query: str) -> dict[str, str]:
    """The URL's options, each given at most once and each one we know."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    names = [name for name, _ in pairs]
    for name in names:
        if name not in _OPTIONS:
            known = ", ".join(_OPTIONS)
            raise ValueError(f"{url!r}: unknown option {name!r} (known: {known})")
        if names.count(name) > 1:
            raise ValueError(f"{url!r}: {name!r} is given more than once")
    return dict(pairs)


def _prefix(url: str, path: str) -> str | None:
    prefix = urllib.parse.unquote(path).strip("/")
    if not prefix:
        return None
    try:
        return check_key(prefix)
    except InvalidKey:
        raise ValueError(f"{url!r}: the prefix {prefix!r} has an empty, '.' or '..' part") from None


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    return next((env[name] for name in names if env.get(name)), None)


def _boolean(name: str, value: str) -> bool:
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        raise ValueError(f"{name}={value!r}: use true or false") from None
