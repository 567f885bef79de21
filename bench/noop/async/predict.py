"""A no-op model for bench/http.py: returns its input (async, 64 at a time)."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    async def predict(self, text: str = Input(default="x")) -> str:
        return text
