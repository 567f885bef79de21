"""Keys: the names every engine stores under, and the one check they all pass."""

from __future__ import annotations

import pytest

from foretell.files.protocol import (
    InvalidKey,
    check_key,
    check_prefix,
    output_key,
    outputs_prefix,
    upload_key,
)


def test_upload_keys_keep_the_last_segment_of_the_name() -> None:
    """An upload's key is uploads/<id>/<name>, the name's folders (either slash) dropped."""
    assert upload_key("f1", "photo.png") == "uploads/f1/photo.png"
    assert upload_key("f1", "a/b\\c.png") == "uploads/f1/c.png"
    assert upload_key("f1", "folder/..") == "uploads/f1/file"
    assert upload_key("f1", "") == "uploads/f1/file"


def test_output_keys_are_unguessable_and_under_their_prediction() -> None:
    """Two outputs of the same name get different keys, both under the prediction's prefix."""
    first, second = output_key("p1", "out.png"), output_key("p1", "out.png")
    assert first != second
    for key in (first, second):
        assert key.startswith(outputs_prefix("p1")) and key.endswith("/out.png")
        assert len(key.split("/")[2]) == 32


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "..", "./a", "a//b", "a/", "a\x00"])
def test_unsafe_keys_are_refused(key: str) -> None:
    """A key that is empty, absolute, or has an empty, `.` or `..` part is refused."""
    with pytest.raises(InvalidKey):
        check_key(key)


def test_prefixes_are_folders() -> None:
    """A prefix names a whole folder: it ends with `/`."""
    assert check_prefix("outputs/p1/") == "outputs/p1/"
    for bad in ("outputs/p1", "/", "../", "outputs//"):
        with pytest.raises(InvalidKey):
            check_prefix(bad)
