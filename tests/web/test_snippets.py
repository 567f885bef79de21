"""The copy-paste snippets: inputs rendered for each language."""

from __future__ import annotations

import ast

from foretell.web.snippets import python_literal, render_input, snippets


def test_python_literal_is_python() -> None:
    """JSON true/false/null become Python's, and the result evaluates back to the value."""
    value = {"a": True, "b": None, "c": [1, 2.5, "x"], "d": {"e": False}, "f": [], "g": {}}
    assert ast.literal_eval(python_literal(value, 0)) == value


def test_curl_body_survives_single_quotes() -> None:
    """A quote in an input cannot end curl's single-quoted -d argument."""
    assert render_input("curl", {"t": "it's"}) == """{"input":{"t":"it'\\''s"}}"""


def test_streaming_models_get_stream_calls() -> None:
    """Streaming models use client.stream / replicate.stream; others run()."""
    by_lang = {
        s.language: s.fill({"name": "Ada"}) for s in snippets("http://h:1", "a/b", True, True)
    }
    assert 'client.stream("a/b", input=input)' in by_lang["python"]
    assert 'replicate.stream("a/b", { input })' in by_lang["javascript"]
    assert (
        'base_url="http://h:1"' in by_lang["python"]
        and 'baseUrl: "http://h:1/v1"' in by_lang["javascript"]
    )
    assert "Authorization: Bearer" in by_lang["curl"]
    plain = {s.language: s.fill({}) for s in snippets("http://h:1", "a/b", False, False)}
    assert 'client.run("a/b"' in plain["python"] and "Authorization" not in plain["curl"]
