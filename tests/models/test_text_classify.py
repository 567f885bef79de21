"""foretell/text-classify through the runner: a trainer instance (train mode) learns from a
JSONL file, then a predict instance set up with those weights (COG_WEIGHTS) uses them."""

from __future__ import annotations

import json
import pathlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from foretell.core.events import Done, Log
from foretell.models import builtin_models
from foretell.predictor.config import load_config
from foretell.runner import ModelSpec, PredictionRequest, Runner

ROOT = builtin_models()["foretell/text-classify"]
CONFIG = load_config(ROOT)
TICKETS = [
    ("I was charged twice this month", "billing"),
    ("Please refund my last payment", "billing"),
    ("My invoice shows the wrong amount", "billing"),
    ("The app crashes when I open settings", "bug"),
    ("I get error 500 on the login page", "bug"),
    ("The save button does nothing when clicked", "bug"),
    ("Please add a dark mode", "feature"),
    ("It would be nice to export reports to CSV", "feature"),
    ("Could you support several accounts per user", "feature"),
]


@pytest.fixture
async def runner() -> AsyncIterator[Runner]:
    """A runner that stops its workers when the test ends."""
    async with Runner() as r:
        yield r


async def _host(runner: Runner, name: str, **options: Any) -> str:
    ref = options.pop("ref", CONFIG.predict)
    await runner.add_model(ModelSpec(name=name, root=ROOT, ref=ref, **options))
    await runner.wait_ready(name)
    return name


async def _run(
    runner: Runner, name: str, tmp_path: pathlib.Path, **inputs: Any
) -> tuple[Done, str]:
    request = PredictionRequest(
        secrets.token_hex(6),
        inputs,
        output_dir=tmp_path / secrets.token_hex(4),
        allow_local_files=True,  # the JSONL file is a file:// URL in these tests
    )
    logs = []
    async for event in await runner.submit(name, request):
        if isinstance(event, Log):
            logs.append(event.text)
        elif isinstance(event, Done):
            return event, "".join(logs)
    raise AssertionError("events ended without Done")


def _jsonl(path: pathlib.Path, rows: list[tuple[str, str]]) -> str:
    path.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in rows))
    return path.as_uri()


def test_its_config_names_the_trainer() -> None:
    """cog.yaml's `train:` points at predict.py's train()."""
    assert CONFIG.train == "predict.py:train"


async def test_untrained_it_classifies_sentiment(runner: Runner, tmp_path: pathlib.Path) -> None:
    """Without weights: the shipped sentiment examples; example.json's input runs as is."""
    name = await _host(runner, "foretell/text-classify")
    example = json.loads((ROOT / "example.json").read_text())["input"]
    done, _ = await _run(runner, name, tmp_path, **example)
    assert done.status == "succeeded", done.error
    assert done.output["label"] == "positive"
    assert set(done.output["scores"]) == {"positive", "negative"}
    assert abs(sum(done.output["scores"].values()) - 1) < 1e-3


async def test_trains_then_predicts_with_the_trained_weights(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """Train mode: weights file out; predict mode with COG_WEIGHTS: the learned labels."""
    trainer = await _host(runner, "foretell/text-classify#train", ref=CONFIG.train, mode="train")
    data = _jsonl(tmp_path / "tickets.jsonl", TICKETS)
    done, logs = await _run(runner, trainer, tmp_path, train_data=data, ngrams=2)
    assert done.status == "succeeded", done.error
    assert done.files == [["weights"]]
    assert "trained on 9 examples: {'billing': 3, 'bug': 3, 'feature': 3}" in logs
    weights = pathlib.Path(done.output["weights"])
    assert json.loads(weights.read_text())["format"].startswith("foretell/text-classify")

    trained = await _host(runner, "acme/tickets", env={"COG_WEIGHTS": str(weights)})
    expected = {
        "I have been charged twice": "billing",
        "the settings page crashes": "bug",
        "please add CSV export": "feature",
    }
    for text, label in expected.items():
        done, _ = await _run(runner, trained, tmp_path, text=text)
        assert done.status == "succeeded", done.error
        assert done.output["label"] == label, (text, done.output)
        assert list(done.output["scores"])[0] == label


async def test_bad_training_data_fails_with_the_line_named(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A line without a label, or one label only: the training fails saying what to fix."""
    trainer = await _host(runner, "foretell/text-classify#train", ref=CONFIG.train, mode="train")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine", "label": "a"}\n{"text": "no label"}\n')
    done, _ = await _run(runner, trainer, tmp_path, train_data=broken.as_uri())
    assert done.status == "failed"
    assert "train_data line 2: 'label' must be a non-empty string" in (done.error or "")
    single = _jsonl(tmp_path / "single.jsonl", [("a", "x"), ("b", "x")])
    done, _ = await _run(runner, trainer, tmp_path, train_data=single)
    assert done.status == "failed"
    assert "at least 2 labels (found ['x'])" in (done.error or "")
