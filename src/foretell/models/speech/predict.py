"""Text to speech with eSpeak NG (WAV, or MP3 through LAME): tiny, instant and offline."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import wave

from cog import BasePredictor, Input, Path

#: a curated set of espeak-ng's voices (`espeak-ng --voices` lists them all)
VOICES = [
    "en-us", "en-gb", "de", "fr", "es", "es-419", "it", "pt", "pt-br",
    "nl", "pl", "sv", "ru", "cmn", "hi", "ja",
]  # fmt: skip
MAX_CHARS = 10_000
#: seconds a synthesis or an encoding may take at most (10,000 characters, ~10 minutes of
#: audio, take 0.5 s to synthesise and 2 s to encode as MP3)
TIMEOUT_S = 120


def run(args: list[str], timeout: float = TIMEOUT_S) -> None:
    """Run a program; kill it if the prediction is canceled (the worker raises in this thread)."""
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
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


class Predictor(BasePredictor):
    def setup(self) -> None:
        missing = [tool for tool in ("espeak-ng", "lame") if shutil.which(tool) is None]
        if missing:
            raise RuntimeError(
                f"not installed: {', '.join(missing)} (apt-get install {' '.join(missing)})"
            )

    def predict(
        self,
        text: str = Input(
            description="The text to speak (leave empty when you give text_file)",
            default="",
            max_length=MAX_CHARS,
        ),
        text_file: Path | None = Input(
            description="A UTF-8 .txt file to speak instead of text, e.g. foretell/ocr's "
            "text_file output URL",
            default=None,
        ),
        voice: str = Input(
            description="eSpeak NG voice (language)", default="en-us", choices=VOICES
        ),
        speed: int = Input(description="Speed in words per minute", default=175, ge=80, le=450),
        pitch: int = Input(description="Pitch: 0 low, 99 high", default=50, ge=0, le=99),
        output_format: str = Input(
            description="wav (uncompressed) or mp3 (smaller, encoded with LAME)",
            default="wav",
            choices=["wav", "mp3"],
        ),
    ) -> Path:
        words = self._text(text, text_file)
        started = time.monotonic()
        folder = Path(tempfile.mkdtemp())
        source = folder / "text.txt"
        # Through a file, not argv: no length limit, and text starting with "-" is no option.
        source.write_text(words, encoding="utf-8")
        wav = folder / "speech.wav"
        run(["espeak-ng", "-b", "1", "-v", voice, "-s", str(speed), "-p", str(pitch),
             "-w", str(wav), "-f", str(source)])  # fmt: skip
        with wave.open(str(wav), "rb") as audio:
            seconds = audio.getnframes() / audio.getframerate()
            rate = audio.getframerate()
        out = wav
        if output_format == "mp3":
            out = folder / "speech.mp3"
            run(
                ["lame", "--quiet", "-b", "48", str(wav), str(out)]
            )  # 48 kbit/s CBR: plenty for speech
        print(
            f"{len(words)} characters -> {seconds:.2f} s of {voice} speech at {rate} Hz, "
            f"{output_format.upper()} {out.stat().st_size} bytes in {time.monotonic() - started:.2f} s"
        )
        return out

    @staticmethod
    def _text(text: str, text_file: Path | None) -> str:
        """Exactly one of text and text_file, non-empty."""
        if text.strip() and text_file is not None:
            raise ValueError("Give either text or text_file, not both.")
        if text_file is not None:
            with open(text_file, "rb") as file:
                content = file.read(MAX_CHARS * 4 + 1)  # a UTF-8 character is at most 4 bytes
            text = content.decode("utf-8", errors="replace")
            if len(text) > MAX_CHARS:
                raise ValueError(f"text_file has more than {MAX_CHARS} characters.")
            if not text.strip():
                raise ValueError("text_file is empty: there is nothing to speak.")
            return text
        if not text.strip():
            raise ValueError("Give the text to speak: text or text_file.")
        return text
