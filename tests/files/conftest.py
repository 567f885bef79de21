"""Fixtures of the files tests: moto's S3 server (tests/files/s3_server.py)."""

from __future__ import annotations

from tests.files.s3_server import s3_server

__all__ = ["s3_server"]
