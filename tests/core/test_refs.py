"""Parsing model references."""

from __future__ import annotations

import pytest

from foretell.core.refs import InvalidModelRef, ModelRef

VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme/hello", ModelRef("acme", "hello")),
        (f"acme/hello:{VERSION}", ModelRef("acme", "hello", VERSION)),
        (VERSION, ModelRef(version=VERSION)),
        ("local/my-model.v2", ModelRef("local", "my-model.v2")),
    ],
)
def test_parses_the_three_reference_forms(text: str, expected: ModelRef) -> None:
    """owner/name, owner/name:version and a bare version id all parse."""
    assert ModelRef.parse(text) == expected


@pytest.mark.parametrize("text", ["hello", "acme/hello:latest", "/x", "a/b/c", "acme/"])
def test_rejects_other_strings_with_a_hint(text: str) -> None:
    """Anything else is refused with a message that names the accepted forms."""
    with pytest.raises(InvalidModelRef, match="owner/name|version id"):
        ModelRef.parse(text)
