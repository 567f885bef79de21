"""Collections configuration: what a file may hold, and the message each mistake gets."""

from __future__ import annotations

import re

import pytest

from foretell.core.collections import (
    BUILTIN_SLUG,
    Collection,
    CollectionsError,
    builtin_collection,
    combine,
    parse_collections,
)


def test_a_file_becomes_collections_in_its_order() -> None:
    """Slugs, names, descriptions and model lists are kept in the file's order; a missing
    description is empty and a missing model list is none."""
    parsed = parse_collections(
        {
            "collections": [
                {
                    "slug": "text-tools",
                    "name": " Text tools ",
                    "description": "Read and write text.",
                    "full_description": "# Text\n",
                    "models": ["acme/b", "acme/a"],
                },
                {"slug": "later", "name": "Later"},
            ]
        }
    )
    assert parsed == [
        Collection(
            "text-tools", "Text tools", "Read and write text.", ("acme/b", "acme/a"), "# Text"
        ),
        Collection("later", "Later", "", ()),
    ]
    assert parse_collections(None) == [] == parse_collections({"collections": None})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "one key, `collections`"),
        ({"collection": []}, "one key, `collections`"),
        ({"collections": {"slug": "a"}}, "`collections` must be a list"),
        ({"collections": ["a"]}, "collections[0]: must be a mapping"),
        ({"collections": [{"slug": "a", "name": "A", "model": []}]}, "unknown key 'model'"),
        ({"collections": [{"name": "A"}]}, "collections[0].slug: must be a non-empty string"),
        ({"collections": [{"slug": "Text_Tools", "name": "A"}]}, "'Text_Tools' is not a slug"),
        ({"collections": [{"slug": "a--b", "name": "A"}]}, "is not a slug"),
        ({"collections": [{"slug": "a", "name": " "}]}, "collections[0].name: must be"),
        ({"collections": [{"slug": "a", "name": "A", "description": 3}]}, ".description:"),
        ({"collections": [{"slug": "a", "name": "A", "models": "acme/x"}]}, "must be a list"),
        (
            {"collections": [{"slug": "a", "name": "A", "models": ["acme/x", "nope"]}]},
            "collections[0].models[1]: 'nope' is not a model name: use owner/name",
        ),
        (
            {"collections": [{"slug": "a", "name": "A", "models": ["acme/x:" + "0" * 64]}]},
            "is not a model name",
        ),
        (
            {"collections": [{"slug": "a", "name": "A", "models": ["acme/x", "acme/x"]}]},
            "models[1]: acme/x is listed twice",
        ),
        (
            {"collections": [{"slug": "a", "name": "A"}, {"slug": "a", "name": "B"}]},
            "collections[1]: slug 'a' is used twice",
        ),
    ],
)
def test_each_mistake_names_its_entry(data: object, message: str) -> None:
    """A wrong file is refused with the entry that is wrong and what to write instead."""
    with pytest.raises(CollectionsError, match=re.escape(message)):
        parse_collections(data)


def test_the_built_in_collection_comes_first_unless_the_file_redefines_it() -> None:
    """The built-in models form one collection, listed first; a configured collection with
    its slug takes its place."""
    builtin = builtin_collection(["foretell/a", "foretell/b"])
    assert builtin.slug == BUILTIN_SLUG and builtin.models == ("foretell/a", "foretell/b")
    mine = Collection("mine", "Mine", "", ())
    assert combine(builtin, [mine]) == [builtin, mine]
    replaced = Collection(BUILTIN_SLUG, "Ours", "", ("foretell/a",))
    assert combine(builtin, [mine, replaced]) == [mine, replaced]


def test_a_query_matches_every_word_in_slug_name_or_description() -> None:
    collection = Collection("text-tools", "Text tools", "Count words in a file.", ())
    assert collection.matches("TEXT count")
    assert collection.matches("")
    assert not collection.matches("text images")
