"""Printed text out of an image with Tesseract 5: the text, a .txt file of it, word boxes."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
import time

from cog import BaseModel, BasePredictor, Input, Path

#: seconds one recognition may take at most (a dense A4 page at 300 dpi takes a few)
TIMEOUT_S = 300
#: Tesseract's page segmentation modes that recognise text (0 finds orientation only, 2 is
#: not implemented)
PAGE_SEGMENTATION = {
    1: "automatic, with orientation and script detection",
    3: "fully automatic (default)",
    4: "a single column of text of variable sizes",
    5: "a single uniform block of vertically aligned text",
    6: "a single uniform block of text",
    7: "a single text line",
    8: "a single word",
    9: "a single word in a circle",
    10: "a single character",
    11: "sparse text: as much text as possible, in no particular order",
    12: "sparse text with orientation and script detection",
    13: "raw line: a single text line, bypassing Tesseract's layout hacks",
}
PSM_HELP = "Tesseract's page segmentation mode: " + "; ".join(
    f"{mode}: {what}" for mode, what in PAGE_SEGMENTATION.items()
)


def installed_languages() -> list[str]:
    """Tesseract's language packs here (tesseract-ocr-<lang>), `osd` aside: it is no language."""
    try:
        listing = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []  # setup() says what is missing
    # The first line is a header: List of available languages in "…" (N):
    return sorted({line.strip() for line in listing.splitlines()[1:] if line.strip()} - {"osd"})


LANGUAGES = installed_languages()


class Word(BaseModel):
    word: str
    #: Tesseract's confidence, 0 to 100
    confidence: float
    left: int
    top: int
    width: int
    height: int


class Output(BaseModel):
    text: str
    #: the same text as a UTF-8 .txt file, to feed to another model (e.g. foretell/speech)
    text_file: Path
    #: each recognised word and its box in pixels, when word_boxes is true
    words: list[Word] | None = None


def run(args: list[str], env: dict[str, str], timeout: float = TIMEOUT_S) -> str:
    """Run a program, return its stderr; kill it if the prediction is canceled (the worker
    raises in this thread)."""
    process = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        _, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{args[0]} took longer than {timeout} s") from None
    finally:
        if process.poll() is None:  # canceled or timed out: don't leave it running
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"{args[0]} failed (exit code {process.returncode}): {errors.strip()}")
    return errors


class Predictor(BasePredictor):
    def setup(self) -> None:
        if shutil.which("tesseract") is None:
            raise RuntimeError("tesseract is not installed: apt-get install tesseract-ocr")
        # OpenMP threads make Tesseract 3x slower on small machines; one image is small work.
        self.env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def predict(
        self,
        image: Path = Input(
            description="An image with printed text (PNG, JPEG, TIFF, WebP, GIF, BMP)"
        ),
        # A pattern, not choices: Cog wants 2+ choices and a stock install has English only.
        language: str = Input(
            description="Language of the text, a Tesseract code; several joined with +, e.g. "
            f"eng+deu. Installed here: {', '.join(LANGUAGES) or 'none'} (more: apt-get install "
            "tesseract-ocr-deu, -fra, -spa, …)",
            default="eng",
            max_length=200,
            regex=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$",
        ),
        page_segmentation: int = Input(
            description=PSM_HELP,
            default=3,
            choices=list(PAGE_SEGMENTATION),
        ),
        word_boxes: bool = Input(
            description="Also return each word with its confidence and box", default=False
        ),
    ) -> Output:
        missing = [code for code in language.split("+") if code not in LANGUAGES]
        if missing:
            raise ValueError(
                f"Tesseract has no {', '.join(missing)} language pack here (installed: "
                f"{', '.join(LANGUAGES) or 'none'}); apt-get install "
                + " ".join(f"tesseract-ocr-{code.lower()}" for code in missing)
            )
        started = time.monotonic()
        folder = Path(tempfile.mkdtemp())
        base = folder / "text"
        # One recognition writes both text.txt and text.tsv (the word boxes).
        formats = ["txt", "tsv"] if word_boxes else ["txt"]
        notes = run(
            ["tesseract", str(image), str(base), "-l", language,
             "--psm", str(page_segmentation), *formats],
            self.env,
        )  # fmt: skip
        # Tesseract ends each page with a form feed; keep the text, not the page break.
        text = (folder / "text.txt").read_text(encoding="utf-8").rstrip("\f \n")
        text_file = folder / "text.txt"
        text_file.write_text(text + "\n" if text else "", encoding="utf-8")
        words = self._words(folder / "text.tsv") if word_boxes else None
        notes = " ".join(line for line in notes.splitlines() if line.strip())
        print(
            f"{len(text)} characters, {len(text.split())} words in "
            f"{time.monotonic() - started:.2f} s ({language}, psm {page_segmentation})"
            + (f"; tesseract: {notes}" if notes else "")
        )
        return Output(text=text, text_file=text_file, words=words)

    @staticmethod
    def _words(tsv: Path) -> list[Word]:
        """Level-5 rows of Tesseract's TSV are words: left top width height conf text."""
        words = []
        with open(tsv, encoding="utf-8", newline="") as file:
            # Words may hold quotes: they are data, not CSV quoting.
            for row in csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE):
                word = (row.get("text") or "").strip()
                if row.get("level") != "5" or not word:
                    continue
                words.append(
                    Word(
                        word=word,
                        confidence=round(float(row["conf"]), 2),
                        left=int(row["left"]),
                        top=int(row["top"]),
                        width=int(row["width"]),
                        height=int(row["height"]),
                    )
                )
        return words
