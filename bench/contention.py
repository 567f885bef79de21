"""Two CPU-heavy built-in models at once: text generation while embeddings run in batches,
with every core for each (the default) and with `--model-threads N`; each model alone in the
same run is the baseline.  `python bench/contention.py [--threads 1]`"""

from __future__ import annotations

import argparse
import os
import pathlib
import tempfile
import threading
import time
from typing import Any

from models import Served  # bench/models.py: the script's own directory is on sys.path
from rich.console import Console
from rich.table import Table

from foretell.models import builtin_models

TEXTS = [f"Sentence number {i} about local inference servers." for i in range(32)]
GENERATE = {"prompt": "The history of the printing press", "max_tokens": 96, "seed": 1}


def tokens_per_s(served: Served) -> float:
    _, prediction = served.run(GENERATE)
    return float(len(prediction["output"]) / prediction["metrics"]["predict_time"])


def texts_per_s(served: Served, seconds: float) -> float:
    done, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        served.run({"texts": TEXTS, "batch_size": 32})
        done += len(TEXTS)
    return done / (time.monotonic() - started)


def measure(threads: int | None, data: pathlib.Path) -> dict[str, Any]:
    models = builtin_models()
    extra = ["--model-threads", str(threads)] if threads else []
    llm = Served("foretell/text-generate", models["foretell/text-generate"], data / "a", extra)
    emb = Served("foretell/embeddings", models["foretell/embeddings"], data / "b", extra)
    try:
        llm.wait_ready(), emb.wait_ready()
        tokens_per_s(llm), texts_per_s(emb, 1)  # warm up
        alone = (tokens_per_s(llm), texts_per_s(emb, 5))
        rate: list[float] = []
        worker = threading.Thread(target=lambda: rate.append(texts_per_s(emb, 8)))
        worker.start()
        time.sleep(1)
        together_tokens = tokens_per_s(llm)
        worker.join()
        return {"alone": alone, "together": (together_tokens, rate[0])}
    finally:
        llm.close()
        emb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1, help="--model-threads to compare")
    args = parser.parse_args()
    table = Table(title=f"two models at once ({os.cpu_count()} cores)")
    for column in ("threads per model", "measure", "alone", "at the same time"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as tmp:
        for threads in (None, args.threads):
            result = measure(threads, pathlib.Path(tmp) / str(threads))
            label = "every core (default)" if threads is None else str(threads)
            for index, unit in enumerate(("text-generate tokens/s", "embeddings texts/s")):
                table.add_row(
                    label,
                    unit,
                    f"{result['alone'][index]:.0f}",
                    f"{result['together'][index]:.0f}",
                )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
