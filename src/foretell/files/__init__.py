"""Input uploads and output files: a local directory and signed, expiring URLs."""

from foretell.files.local import LocalFiles
from foretell.files.urls import UrlSigner

__all__ = ["LocalFiles", "UrlSigner"]
