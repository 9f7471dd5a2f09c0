"""An embedded PostgreSQL for the demo: the ``pgserver`` wheel ships PostgreSQL 16's binaries, so the demo runs
on the same database engine as production (jobs included) with nothing but Python installed.

The server keeps its data in ``<data dir>/postgres``, listens only on a Unix socket (no TCP port), and is stopped
when the demo stops; the next start reuses the data.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flowcase.errors import ConfigError


class EmbeddedUnavailable(ConfigError):
    """The embedded PostgreSQL could not be started; the message says why."""


def sqlalchemy_url(libpq_uri: str) -> str:
    """``postgresql://user:@/db?host=/socket/dir`` -> ``postgresql+psycopg://user@/db?host=/socket/dir``."""
    parts = urlsplit(libpq_uri)
    host = parse_qs(parts.query).get("host", [""])[0]
    user = parts.username or "postgres"
    database = parts.path.lstrip("/") or "postgres"
    where = f"{parts.hostname}:{parts.port}" if parts.hostname else ""
    query = f"?host={host}" if host else ""
    return f"postgresql+psycopg://{user}@{where}/{database}{query}"


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or reuse) the embedded server for ``data_dir``; yields a SQLAlchemy URL; stops it afterwards."""
    folder = data_dir / "postgres"
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (it then uses /tmp)
        warnings.simplefilter("ignore")
        try:
            import pgserver.postgres_server
        except ImportError as exc:  # pragma: no cover - a dependency, absent only in broken installs
            raise EmbeddedUnavailable(f"pgserver is not installed ({exc})") from None
        try:
            server = pgserver.postgres_server.get_server(folder, cleanup_mode="stop")
        except Exception as exc:
            raise EmbeddedUnavailable(f"could not start the embedded PostgreSQL: {str(exc).splitlines()[0]}") from None
    try:
        yield sqlalchemy_url(server.get_uri())
    finally:
        server.cleanup()
