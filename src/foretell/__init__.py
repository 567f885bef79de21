"""foretell: Cog models behind a Replicate-compatible API, on your own machines."""

__version__ = "0.1.0"
