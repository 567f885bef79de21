"""foretell/embeddings (all-MiniLM-L6-v2 via sentence-transformers) through a real `foretell serve`."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from foretell.models import builtin_models
from tests.server import BUILD_TIMEOUT_S, Server, run_prediction, serve_builtin

EMBEDDINGS = builtin_models()["foretell/embeddings"]
MODEL = "foretell/embeddings"

# The first run builds a 1.5 GB environment (torch): far past the default test timeout.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + 300)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = serve_builtin(tmp_path_factory.mktemp("embeddings") / "data", MODEL)
    yield server
    server.stop()


def predict(server: Server, inputs: dict[str, Any]) -> dict[str, Any]:
    return run_prediction(server, MODEL, inputs)


def embed(server: Server, **inputs: Any) -> list[dict[str, Any]]:
    result = predict(server, inputs)
    assert result["status"] == "succeeded", result
    output: list[dict[str, Any]] = result["output"]
    return output


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (norm(a) * norm(b))


def test_one_text_gives_a_unit_vector_of_384(server: Server) -> None:
    """One `{text, embedding}` item; 384 floats of length 1, or the same direction unnormalised."""
    text = "Embeddings turn text into vectors."
    [item] = embed(server, text=text)
    assert item["text"] == text
    assert len(item["embedding"]) == 384
    assert all(isinstance(x, float) for x in item["embedding"])
    assert norm(item["embedding"]) == pytest.approx(1.0, abs=1e-5)
    [raw] = embed(server, text=text, normalize=False)
    assert abs(norm(raw["embedding"]) - 1.0) > 0.01
    assert cosine(raw["embedding"], item["embedding"]) == pytest.approx(1.0, abs=1e-5)


def test_similar_sentences_are_closer_than_unrelated_ones(server: Server) -> None:
    """A real model: paraphrases score far higher cosine similarity than unrelated sentences."""
    texts = [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "The girl is carrying a baby.",
        "How do I reset my password?",
        "I forgot my login credentials and can't sign in.",
        "The stock market fell sharply on Monday.",
    ]
    vectors = [item["embedding"] for item in embed(server, texts=texts)]
    food, bread, baby, reset, forgot, market = vectors
    assert cosine(food, bread) > 0.6  # the reference value is 0.755
    assert cosine(food, baby) < 0.1  # and -0.105
    assert cosine(reset, forgot) > cosine(reset, market) + 0.3
    assert cosine(reset, forgot) > cosine(reset, food) + 0.3
    assert cosine(food, bread) > cosine(bread, market) + 0.4


def test_batch_keeps_order_and_matches_one_by_one(server: Server) -> None:
    """40 texts of varied lengths, 16 per forward pass: 40 vectors in input order, each equal to
    that text embedded alone (padding in a batch must not change a vector)."""
    topics = ["cats", "rain", "trains", "coffee", "chess", "volcanoes", "jazz", "tax law"]
    texts = [
        f"Note {i}: a few words about {topics[i % 8]}" + " and more detail" * (i % 5)
        for i in range(40)
    ]
    batch = embed(server, texts=texts, batch_size=16)
    assert [item["text"] for item in batch] == texts
    for text, item in zip(texts, batch, strict=True):
        [alone] = embed(server, text=text, batch_size=1)
        assert len(item["embedding"]) == 384
        assert max(abs(a - b) for a, b in zip(item["embedding"], alone["embedding"])) < 1e-5


def test_text_and_texts_together(server: Server) -> None:
    """`text` comes first, then `texts` in order."""
    output = embed(server, text="first", texts=["second", "third"])
    assert [item["text"] for item in output] == ["first", "second", "third"]


def test_invalid_inputs_are_422(server: Server) -> None:
    """Schema constraints are checked before anything runs, each field named."""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"texts": ["fine", ""]}, "input.texts[1]"),
        ({"text": ""}, "input.text"),
        ({"text": "x" * 20_001}, "input.text"),
        ({"texts": ["ok", "y" * 20_001]}, "input.texts[1]"),
        ({"texts": "not a list"}, "input.texts"),
        ({"text": "ok", "batch_size": 0}, "input.batch_size"),
        ({"text": "ok", "batch_size": 257}, "input.batch_size"),
        ({"text": "ok", "normalize": "yes"}, "input.normalize"),
    ]
    with server.client() as http:
        for inputs, field in cases:
            response = http.post(f"/v1/models/{MODEL}/predictions", json={"input": inputs})
            assert response.status_code == 422, (inputs, response.text)
            fields = [f["field"] for f in response.json()["invalid_fields"]]
            assert fields == [field], (inputs, fields)


def test_nothing_or_too_much_fails_clearly(server: Server) -> None:
    """No text at all, or more than 1024 texts: a failed prediction that says why."""
    empty = predict(server, {})
    assert empty["status"] == "failed"
    assert "give `text` or `texts`" in empty["error"]
    too_many = predict(server, {"texts": ["word"] * 1025})
    assert too_many["status"] == "failed"
    assert "at most 1024 texts per call (got 1025)" in too_many["error"]
