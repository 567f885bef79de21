"""A no-op model for bench/http.py: returns its input (sync, one prediction at a time)."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, text: str = Input(default="x")) -> str:
        return text
