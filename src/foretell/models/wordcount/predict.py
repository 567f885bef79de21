"""Counts the words of a text file and writes a report: a file in, a file and numbers out."""

from __future__ import annotations

import collections
import re
import tempfile

from cog import BaseModel, BasePredictor, Input, Path


class Output(BaseModel):
    words: int
    lines: int
    top_words: list[str]
    report: Path


class Predictor(BasePredictor):
    def predict(
        self,
        text: Path = Input(description="A UTF-8 text file"),
        top: int = Input(
            description="How many of the most common words to list", default=5, ge=1, le=50
        ),
        ignore_case: bool = Input(description="Count 'The' and 'the' as one word", default=True),
    ) -> Output:
        content = text.read_text(encoding="utf-8", errors="replace")
        if ignore_case:
            content = content.lower()
        words = re.findall(r"[\w']+", content)
        common = collections.Counter(words).most_common(top)
        print(f"read {len(words)} words from {text.name}")
        report = Path(tempfile.mkdtemp()) / "report.txt"
        report.write_text("".join(f"{word}\t{count}\n" for word, count in common), encoding="utf-8")
        return Output(
            words=len(words),
            lines=content.count("\n") + (0 if content.endswith("\n") or not content else 1),
            top_words=[word for word, _ in common],
            report=report,
        )
