"""Admission of file inputs: this server's own files are planned by key, never by path."""

from __future__ import annotations

import datetime
import pathlib

import pytest

from foretell.admission import Admission
from foretell.core.models import Model
from foretell.errors import InvalidRequest
from foretell.files.local import LocalFiles
from foretell.files.protocol import output_key, upload_key
from foretell.files.urls import UrlSigner
from foretell.outbound import OutboundPolicy
from foretell.store.protocol import FileRecord

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
BASE = "http://api.example"
SCHEMA = {
    "components": {
        "schemas": {
            "Input": {
                "type": "object",
                "properties": {"image": {"type": "string", "format": "uri", "x-order": 0}},
                "required": ["image"],
            }
        }
    }
}
MODEL = Model("acme", "look", "v1", SCHEMA, T0, runner_name="look")


class Records:
    """The store's file records, as admission reads them."""

    def __init__(self, *records: FileRecord) -> None:
        self.by_id = {record.id: record for record in records}

    async def get_file(self, account: str | None, file_id: str) -> FileRecord | None:
        record = self.by_id.get(file_id)
        return record if record is not None and account in (None, record.account) else None


def _record(key: str) -> FileRecord:
    return FileRecord(
        "f1", "ann", "cat.png", "image/png", 4, "m", "s", {}, T0, T0, key
    )  # fmt: skip


@pytest.fixture
def files(tmp_path: pathlib.Path) -> LocalFiles:
    return LocalFiles(tmp_path / "files")


def _admission(files: LocalFiles, records: Records, signer: UrlSigner) -> Admission:
    return Admission(signer, files, records, OutboundPolicy(), 1024)


async def test_an_upload_url_is_planned_by_its_key(files: LocalFiles) -> None:
    """A /v1/files/<id> URL of the account's own upload becomes that upload's key."""
    key = upload_key("f1", "cat.png")
    await files.put(key, b"meow")
    admission = _admission(files, Records(_record(key)), UrlSigner(b"k"))
    url = f"{BASE}/v1/files/f1"
    plan = await admission.plan_files("ann", MODEL, {"image": url}, BASE)
    assert plan.keys == {url: key} and plan.remote == []


async def test_another_accounts_upload_is_no_such_file(files: LocalFiles) -> None:
    """An upload of another account is refused as if it did not exist."""
    admission = _admission(files, Records(_record(upload_key("f1", "cat.png"))), UrlSigner(b"k"))
    with pytest.raises(InvalidRequest) as caught:
        await admission.plan_files("bob", MODEL, {"image": f"{BASE}/v1/files/f1"}, BASE)
    assert "no such file" in caught.value.fields[0].description


async def test_a_signed_output_url_is_planned_by_its_key(files: LocalFiles) -> None:
    """An output URL this server signed (from any host name) becomes the output's key; once
    the output is deleted it is refused."""
    signer = UrlSigner(b"k")
    key = output_key("p1", "out.png")
    await files.put(key, b"png")
    url = "http://other-name:5000" + signer.sign(f"/v1/{key}")
    admission = _admission(files, Records(), signer)
    plan = await admission.plan_files("ann", MODEL, {"image": url}, BASE)
    assert plan.keys == {url: key}
    await files.delete(key)
    with pytest.raises(InvalidRequest) as caught:
        await admission.plan_files("ann", MODEL, {"image": url}, BASE)
    assert "no longer exists" in caught.value.fields[0].description


async def test_other_urls_are_remote(files: LocalFiles) -> None:
    """A URL that is not this server's own file is fetched later, through the guard."""
    admission = _admission(files, Records(), UrlSigner(b"k"))
    url = "https://example.com/cat.png"
    plan = await admission.plan_files("ann", MODEL, {"image": url}, BASE)
    assert plan.keys == {} and plan.remote == [url]
