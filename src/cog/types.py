"""`cog.types` for models that import from it."""

from foretell.predictor.types import *  # noqa: F403
from foretell.predictor.types import __all__ as __all__
