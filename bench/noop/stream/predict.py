"""A streaming model for bench/http.py: yields n tokens as fast as it can."""

from cog import BasePredictor, ConcatenateIterator, Input


class Predictor(BasePredictor):
    def predict(self, n: int = Input(default=100, ge=1, le=10_000)) -> ConcatenateIterator[str]:
        for i in range(n):
            yield f"tok{i} "
