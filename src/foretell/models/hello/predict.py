"""A tiny streaming model: greets someone, one word at a time."""

from __future__ import annotations

import time

from cog import BasePredictor, ConcatenateIterator, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.greetings = {"en": "Hello", "fr": "Bonjour", "de": "Hallo", "es": "Hola"}

    def predict(
        self,
        name: str = Input(description="Who to greet", default="World", max_length=100),
        language: str = Input(
            description="Language", default="en", choices=["en", "fr", "de", "es"]
        ),
        repeat: int = Input(description="How many greetings", default=3, ge=1, le=20),
        delay: float = Input(description="Seconds between words", default=0.1, ge=0, le=2),
    ) -> ConcatenateIterator[str]:
        print(f"greeting {name} {repeat} times in {language}")
        for i in range(repeat):
            for word in (self.greetings[language], f"{name}!"):
                yield word + " "
                time.sleep(delay)
            if i < repeat - 1:
                yield "\n"
