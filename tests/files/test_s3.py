"""The S3 engine beyond the contract: presigned URLs, multipart uploads, odd key names, a
server that is down, and what the URL and the environment say (tests/files/s3_server.py
runs moto's real S3 server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import html
import math
import pathlib
import re
import urllib.parse
from collections.abc import Awaitable, Callable

import httpx
import pytest

from foretell.errors import StoreError
from foretell.files import s3
from foretell.files.protocol import MissingFile, StoredFile, output_key, outputs_prefix
from foretell.files.s3 import PART_BYTES, S3Error, S3Files
from foretell.files.s3_config import S3Location, parse_s3_url
from tests.files.s3_server import REGION, S3Server, free_port

#: past PART_BYTES twice: three parts
BIG = hashlib.sha256(b"seed").digest() * (12 * 1024 * 1024 // 32)


@pytest.fixture
def credentials(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in s3_server.credentials().items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def files(s3_server: S3Server, credentials: None) -> S3Files:
    return S3Files(s3_server.files_url())


async def _etag(files: S3Files, key: str) -> str:
    """The ETag the server gives the object (read through a presigned GET)."""
    url = await files.signed_url(key, 60)
    assert url is not None
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    return response.headers["etag"].strip('"')


def _digests(key: str, data: bytes) -> StoredFile:
    md5 = hashlib.md5(data).hexdigest()
    return StoredFile(key, len(data), md5, hashlib.sha256(data).hexdigest())


async def test_a_presigned_url_downloads_the_file(files: S3Files) -> None:
    """signed_url is the server's own presigned GET: plain httpx fetches the bytes, no
    credentials needed."""
    key = output_key("p1", "a.txt")
    await files.put(key, b"hello")
    url = await files.signed_url(key, 60)
    assert url is not None and url.startswith(files.location.endpoint or "")
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200 and response.content == b"hello"


async def test_a_presigned_url_expires_after_its_ttl(files: S3Files) -> None:
    """The URL is signed now for ttl_s rounded up to a whole second: S3 refuses it after
    X-Amz-Date + X-Amz-Expires (moto doesn't check expiry, so the signed fields are)."""
    key = output_key("p1", "a.txt")
    await files.put(key, b"hello")
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    url = await files.signed_url(key, 1.5)
    after = datetime.datetime.now(datetime.UTC)
    assert url is not None
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    signed_at = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    assert before <= signed_at.replace(tzinfo=datetime.UTC) <= after
    assert query["X-Amz-Expires"] == "2"
    assert "host" in query["X-Amz-SignedHeaders"] and query["X-Amz-Signature"]


async def test_no_presigned_url_past_seven_days_or_when_off(
    s3_server: S3Server, credentials: None, files: S3Files
) -> None:
    """Past S3's 7-day limit, or with presign=false (clients can't reach the endpoint),
    signed_url is None: the API signs and serves the file itself."""
    key = output_key("p1", "a.txt")
    await files.put(key, b"x")
    for ttl_s in (8 * 24 * 3600, math.inf, math.nan):
        assert await files.signed_url(key, ttl_s) is None
    unsigned = S3Files(s3_server.files_url(files.location.prefix) + "&presign=false")
    assert await unsigned.signed_url(key, 60) is None
    assert await unsigned.read(key) == b"x"


async def test_a_large_file_goes_up_in_parts_and_comes_back_whole(
    files: S3Files, tmp_path: pathlib.Path
) -> None:
    """12 MB from bytes, and from a file (streamed up, then removed), go up as three-part
    multipart uploads (S3's ETag says so, and is no md5: the digests are ours) and come
    back identical by read, open and copy_to."""
    source = tmp_path / "big.bin"
    source.write_bytes(BIG)
    from_bytes, from_path = output_key("p1", "a.bin"), output_key("p1", "b.bin")
    assert await files.put(from_bytes, BIG) == _digests(from_bytes, BIG)
    assert await files.put(from_path, source) == _digests(from_path, BIG)
    assert not source.exists()
    for key in (from_bytes, from_path):
        assert (await _etag(files, key)).endswith("-3")
    assert await files.read(from_bytes) == BIG
    chunks = [chunk async for chunk in files.open(from_path)]
    assert b"".join(chunks) == BIG and len(chunks) > 1
    copy = tmp_path / "copy" / "b.bin"
    assert await files.copy_to(from_path, copy) == copy
    assert copy.read_bytes() == BIG


async def test_a_small_file_goes_up_in_one_put(files: S3Files, tmp_path: pathlib.Path) -> None:
    """A file under PART_BYTES is one PUT (a plain md5 ETag), not a multipart upload."""
    source = tmp_path / "small.bin"
    source.write_bytes(b"y" * (PART_BYTES - 1))
    key = output_key("p1", "small.bin")
    await files.put(key, source)
    assert await _etag(files, key) == hashlib.md5(b"y" * (PART_BYTES - 1)).hexdigest()


@pytest.mark.parametrize(
    "name", ["my file (1).png", "100%.txt", "a#b?c.txt", "x+y=z&.txt", "élan ü.txt", "a\\b"]
)
async def test_odd_names_are_stored_under_their_key(
    s3_server: S3Server, files: S3Files, name: str
) -> None:
    """Spaces, %, #, ?, +, & and non-ASCII in a name: the object's key is the FileStore
    key under the prefix (as the bucket's listing shows), and delete_prefix finds it."""
    key = f"outputs/p1/r/{name}"
    await files.put(key, b"odd")
    assert await files.read(key) == b"odd"
    async with httpx.AsyncClient() as client:
        listing = await client.get(
            f"{s3_server.endpoint}/{s3_server.bucket}",
            params={"list-type": "2", "prefix": f"{files.location.prefix}/"},
        )
    keys = re.findall(r"<Key>(.*?)</Key>", listing.text)
    assert [html.unescape(k) for k in keys] == [f"{files.location.prefix}/{key}"]
    await files.delete_prefix(outputs_prefix("p1"))
    assert not await files.exists(key)


async def test_prefixes_keep_stores_apart(s3_server: S3Server, credentials: None) -> None:
    """Two stores under different prefixes of one bucket never see each other's files."""
    one, two = S3Files(s3_server.files_url("one")), S3Files(s3_server.files_url("two"))
    await one.put("uploads/f1/a.txt", b"one")
    assert not await two.exists("uploads/f1/a.txt")
    await two.delete_prefix("uploads/")
    assert await one.read("uploads/f1/a.txt") == b"one"


async def test_delete_prefix_takes_the_listing_in_batches(
    files: S3Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys listed a few at a time (1,000 in use; S3's own pages and bulk-delete limit,
    also 1,000, are obstore's to follow) are all deleted."""
    monkeypatch.setattr(s3, "LIST_BATCH", 2)
    keys = [output_key("p1", f"{n}.txt") for n in range(5)]
    await asyncio.gather(*(files.put(key, b"x") for key in keys))
    await files.delete_prefix(outputs_prefix("p1"))
    assert [await files.exists(key) for key in keys] == [False] * 5


async def test_a_server_that_is_down_is_one_clear_error(
    credentials: None, tmp_path: pathlib.Path
) -> None:
    """Nothing listening at the endpoint: every call raises S3Error (a StoreError: the API
    answers 500 with it) naming the operation, the bucket and the endpoint; not
    MissingFile, which would say the file is gone."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    files = S3Files(f"s3://bucket/pre?endpoint={endpoint}&region={REGION}", retries=0)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "store": lambda: files.put("uploads/f1/a.txt", b"x"),
        "read": lambda: files.read("uploads/f1/a.txt"),
        "look up": lambda: files.stat("uploads/f1/a.txt"),
        "read ": lambda: files.copy_to("uploads/f1/a.txt", tmp_path / "a.txt"),
        "look up ": lambda: files.delete("uploads/f1/a.txt"),  # a HEAD first
        "delete the files under": lambda: files.delete_prefix("uploads/f1/"),
    }
    for doing, call in calls.items():
        with pytest.raises(S3Error) as caught:
            await call()
        message = str(caught.value)
        assert message.startswith(f"could not {doing.strip()} 'uploads/f1/")
        assert f"s3://bucket/pre at {endpoint}" in message and "error sending request" in message
        assert isinstance(caught.value, StoreError) and "Debug source" not in message
    with pytest.raises(S3Error):
        await anext(files.open("uploads/f1/a.txt"))
    assert not (tmp_path / "a.txt").exists()


async def test_a_bucket_that_is_not_there(s3_server: S3Server, credentials: None) -> None:
    """Writing to a bucket that doesn't exist is S3Error saying so (not FileNotFoundError:
    no file is missing); reading from it finds no file."""
    files = S3Files(f"s3://no-such-bucket?endpoint={s3_server.endpoint}&region={REGION}")
    with pytest.raises(S3Error, match="NoSuchBucket"):
        await files.put("uploads/f1/a.txt", b"x")
    with pytest.raises(S3Error, match="NoSuchBucket"):
        await files.delete_prefix("uploads/")
    assert await files.stat("uploads/f1/a.txt") is None


async def test_a_missing_object_is_missing_file_not_an_error(files: S3Files) -> None:
    """The server's 404 is MissingFile (the API's 404), not S3Error."""
    with pytest.raises(MissingFile):
        await anext(files.open("uploads/nothing/here.txt"))


# ---- the URL and the environment ------------------------------------------------------------


def test_the_url_names_bucket_prefix_endpoint_and_region() -> None:
    """Bucket, prefix (slashes trimmed), endpoint and region from the URL alone."""
    url = "s3://my-bucket/some/prefix/?endpoint=http://127.0.0.1:9000/&region=eu-west-1"
    assert parse_s3_url(url, env={}) == S3Location(
        "my-bucket", "some/prefix", "http://127.0.0.1:9000", "eu-west-1"
    )
    assert parse_s3_url("s3://b", env={}) == S3Location("b", None, None, None)


def test_the_environment_fills_in_and_the_url_wins() -> None:
    """AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL, AWS_REGION over AWS_DEFAULT_REGION, as
    AWS tools read them; a value on the URL over any of them."""
    env = {
        "AWS_ENDPOINT_URL": "http://general:1",
        "AWS_ENDPOINT_URL_S3": "http://s3-only:2",
        "AWS_DEFAULT_REGION": "us-west-2",
        "AWS_REGION": "eu-central-1",
    }
    assert parse_s3_url("s3://b", env) == S3Location("b", None, "http://s3-only:2", "eu-central-1")
    generic = {"AWS_ENDPOINT_URL": "http://general:1", "AWS_DEFAULT_REGION": "us-west-2"}
    assert parse_s3_url("s3://b", generic) == S3Location("b", None, "http://general:1", "us-west-2")
    url = "s3://b?endpoint=http://127.0.0.1:9000&region=ap-south-1"
    assert parse_s3_url(url, env) == S3Location("b", None, "http://127.0.0.1:9000", "ap-south-1")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///tmp/x", "not an s3:// URL"),
        ("s3:///prefix", "names no bucket"),
        ("s3://key:secret@bucket", "takes no credentials"),
        ("s3://b?color=blue", "unknown option 'color'"),
        ("s3://b?region=a&region=b", "more than once"),
        ("s3://b/a/../c", "empty, '.' or '..' part"),
        ("s3://b?endpoint=127.0.0.1:9000", "not an http:// or https:// URL"),
        ("s3://b?presign=maybe", "use true or false"),
        ("s3://b#frag", "no #fragment"),
    ],
)
def test_a_bad_url_says_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("?", r"\?").replace(".", r"\.")):
        parse_s3_url(url, env={})
