"""Input uploads and output files: the FileStore protocol and signed, expiring URLs. The
engines (foretell.files.local, foretell.files.s3) are imported by name where they are
chosen (foretell.engines), never from here."""

from foretell.files.protocol import (
    FileInfo,
    FileStore,
    InvalidKey,
    MissingFile,
    StoredFile,
    check_key,
    output_key,
    outputs_prefix,
    upload_key,
)
from foretell.files.urls import UrlSigner

__all__ = [
    "FileInfo",
    "FileStore",
    "InvalidKey",
    "MissingFile",
    "StoredFile",
    "UrlSigner",
    "check_key",
    "output_key",
    "outputs_prefix",
    "upload_key",
]
