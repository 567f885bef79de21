"""A text classifier you train on your own examples: multinomial naive Bayes over words and
word pairs, standard library only. `train()` (cog.yaml's `train:`) learns from a JSONL file
in seconds on the CPU and returns the weights; `Predictor` classifies with them."""

from __future__ import annotations

import collections
import json
import math
import re
import tempfile
from typing import Any

from cog import BaseModel, BasePredictor, Input, Path

#: written into every weights file; setup() refuses anything else
FORMAT = "foretell/text-classify naive-bayes v1"
#: what the model knows before any training: a few dozen sentiment examples
DEFAULT_EXAMPLES = Path(__file__).parent / "sentiment.jsonl"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

Weights = dict[str, Any]


def features(text: str, ngrams: int) -> list[str]:
    """Lower-cased words, and runs of up to `ngrams` consecutive words joined by spaces."""
    words = _WORD.findall(text.lower())
    found = list(words)
    for size in range(2, ngrams + 1):
        found += [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    return found


def read_examples(path: Path, text_field: str, label_field: str) -> list[tuple[str, str]]:
    """(text, label) per non-blank line; a ValueError names the first bad line and why."""
    examples = []
    with path.open(encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"train_data line {number}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"train_data line {number}: expected a JSON object")
            text, label = row.get(text_field), row.get(label_field)
            for field, value in ((text_field, text), (label_field, label)):
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(
                        f"train_data line {number}: {field!r} must be a non-empty string"
                    )
            examples.append((str(text), str(label).strip()))
    return examples


def fit(examples: list[tuple[str, str]], ngrams: int, alpha: float) -> Weights:
    """Feature counts per label: all naive Bayes needs."""
    labels = collections.Counter(label for _, label in examples)
    if len(labels) < 2:
        raise ValueError(
            f"train_data needs examples of at least 2 labels (found {sorted(labels) or 'none'})"
        )
    counts: dict[str, collections.Counter[str]] = {label: collections.Counter() for label in labels}
    for text, label in examples:
        counts[label].update(features(text, ngrams))
    return {
        "format": FORMAT,
        "ngrams": ngrams,
        "alpha": alpha,
        "examples": dict(sorted(labels.items())),
        "counts": {label: dict(counter) for label, counter in sorted(counts.items())},
    }


class Classifier:
    """Log probabilities precomputed from a weights object."""

    def __init__(self, weights: Weights) -> None:
        if weights.get("format") != FORMAT:
            raise ValueError(f"not {FORMAT} weights (format: {weights.get('format')!r})")
        self.ngrams: int = weights["ngrams"]
        alpha: float = weights["alpha"]
        counts: dict[str, dict[str, int]] = weights["counts"]
        examples: dict[str, int] = weights["examples"]
        vocabulary = set().union(*counts.values())
        total = sum(examples.values())
        self.prior = {label: math.log(n / total) for label, n in examples.items()}
        self.logp: dict[str, dict[str, float]] = {}
        self.unseen: dict[str, float] = {}
        for label, seen in counts.items():
            denominator = math.log(sum(seen.values()) + alpha * len(vocabulary))
            self.logp[label] = {f: math.log(c + alpha) - denominator for f, c in seen.items()}
            self.unseen[label] = math.log(alpha) - denominator
        self.vocabulary = vocabulary

    def scores(self, text: str) -> dict[str, float]:
        """Each label's probability, highest first; words never seen in training are ignored."""
        known = [f for f in features(text, self.ngrams) if f in self.vocabulary]
        logs = {
            label: prior + sum(self.logp[label].get(f, self.unseen[label]) for f in known)
            for label, prior in self.prior.items()
        }
        top = max(logs.values())
        exps = {label: math.exp(value - top) for label, value in logs.items()}
        total = sum(exps.values())
        ranked = sorted(exps.items(), key=lambda item: (-item[1], item[0]))
        return {label: round(value / total, 6) for label, value in ranked}


class TrainingOutput(BaseModel):
    weights: Path


def train(
    train_data: Path = Input(
        description='JSONL file: one {"text": "...", "label": "..."} object per line'
    ),
    text_field: str = Input(description="Key of the text in each line", default="text"),
    label_field: str = Input(description="Key of the label in each line", default="label"),
    ngrams: int = Input(
        description="Longest run of words used as a feature (1: single words)",
        default=2,
        ge=1,
        le=3,
    ),
    alpha: float = Input(
        description="Smoothing: higher trusts rare words less", default=0.5, ge=0.01, le=10.0
    ),
) -> TrainingOutput:
    """Learn the labels of `train_data`; the weights file becomes a new version's weights."""
    examples = read_examples(train_data, text_field, label_field)
    weights = fit(examples, ngrams, alpha)
    classifier = Classifier(weights)
    sample = examples[:: max(1, len(examples) // 1000)]  # a quick check, not a benchmark
    right = sum(next(iter(classifier.scores(text))) == label for text, label in sample)
    print(f"trained on {len(examples)} examples: {weights['examples']}")
    print(f"accuracy on {len(sample)} of its own training examples: {right / len(sample):.1%}")
    out = Path(tempfile.mkdtemp()) / "weights.json"
    out.write_text(json.dumps(weights, ensure_ascii=False), encoding="utf-8")
    return TrainingOutput(weights=out)


class Output(BaseModel):
    label: str
    scores: dict[str, float]


class Predictor(BasePredictor):
    def setup(self, weights: Path | None = None) -> None:
        """Trained weights (a trained version's, or COG_WEIGHTS); without them, the shipped
        sentiment examples, learned here in milliseconds."""
        if weights is None:
            examples = read_examples(DEFAULT_EXAMPLES, "text", "label")
            self.classifier = Classifier(fit(examples, ngrams=2, alpha=0.5))
            print("no trained weights: using the built-in sentiment examples (train me!)")
            return
        path = weights / "weights.json" if weights.is_dir() else weights
        self.classifier = Classifier(json.loads(path.read_text(encoding="utf-8")))
        print(f"loaded weights for labels {sorted(self.classifier.prior)}")

    def predict(
        self, text: str = Input(description="The text to classify", min_length=1)
    ) -> Output:
        scores = self.classifier.scores(text)
        return Output(label=next(iter(scores)), scores=scores)
