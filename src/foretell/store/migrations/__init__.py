"""The cluster store's schema, as Alembic migrations run from code (no alembic.ini).

The Alembic environment is `scripts/` (env.py and versions/): not a package, so nothing
imports it but Alembic, when it migrates."""

from __future__ import annotations

import functools
import pathlib
import urllib.parse

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

#: the key of the advisory lock held while migrating: nodes that start together take turns
LOCK_KEY = 0x666F7265  # "fore"

_SCHEMES = ("postgresql", "postgres")
_SCRIPTS = str(pathlib.Path(__file__).parent / "scripts")


def sqlalchemy_url(url: str) -> str:
    """`postgresql://…` (or `postgres://…`) as SQLAlchemy names it with the psycopg 3 driver."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in _SCHEMES:
        raise ValueError(f"not a PostgreSQL URL: {urllib.parse.urlsplit(url).scheme}://…")
    return f"postgresql+psycopg://{rest}"


def config(url: str) -> Config:
    """Alembic's configuration, pointing at the scripts in this package."""
    cfg = Config()
    cfg.set_main_option("script_location", _SCRIPTS)
    # passed as an attribute, not an option: ConfigParser would read a % in a password
    cfg.attributes["url"] = sqlalchemy_url(url)
    return cfg


@functools.cache
def head() -> str:
    """The newest revision: a database at it needs nothing done."""
    found = ScriptDirectory(_SCRIPTS).get_current_head()
    assert found is not None  # there is a first revision
    return found


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`; blocking (run it on a thread). Safe when
    several processes do it at once: they take turns on an advisory lock, and the later
    ones find nothing left to do."""
    command.upgrade(config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` back to `revision` ("base": nothing of foretell's)."""
    command.downgrade(config(url), revision)
