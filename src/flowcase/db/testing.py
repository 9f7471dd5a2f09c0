"""Test helper: a PostgreSQL URL for store tests (``FLOWCASE_TEST_POSTGRES_URL`` or a throwaway server).

:func:`postgres_url` yields ``FLOWCASE_TEST_POSTGRES_URL`` when set; otherwise, when ``initdb``/``pg_ctl`` exist,
it starts a private PostgreSQL in a temporary directory on a free 127.0.0.1 port (as an unprivileged user when
run as root, since PostgreSQL refuses to run as root) and removes it afterwards. It raises
:class:`PostgresUnavailable` with the reason when neither works.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_URL = "FLOWCASE_TEST_POSTGRES_URL"
ENV_REQUIRE = "FLOWCASE_REQUIRE_POSTGRES"
_SEARCH = ("/usr/local/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True), "/usr/bin")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL could be used; the message says why."""


def _binary(name: str) -> str | None:
    for folder in _SEARCH:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailable("running as root and no unprivileged user (postgres/nobody) to run PostgreSQL")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a private PostgreSQL server; yields a ``postgresql+psycopg://`` URL; stops and deletes it after."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise PostgresUnavailable("initdb/pg_ctl not found")
    user = _run_user()
    root = Path(tempfile.mkdtemp(prefix="flowcase-pg-"))
    data, log = root / "data", root / "server.log"
    port = _free_port()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        root.chmod(0o700)
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "TZ": "UTC"}
    started = False
    try:
        subprocess.run(  # noqa: S603 - fixed binaries, no shell
            [initdb, "-D", str(data), "-U", "flowcase", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            user=user,
            env=env,
            timeout=120,
        )
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off -c full_page_writes=off"
        subprocess.run(  # noqa: S603
            [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
            user=user,
            env=env,
            timeout=90,
        )
        started = True
        yield f"postgresql+psycopg://flowcase@127.0.0.1:{port}/postgres"
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        if started:
            raise
        raise PostgresUnavailable(f"could not start a throwaway PostgreSQL: {exc}") from None
    finally:
        if started:
            subprocess.run(  # noqa: S603
                [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                user=user,
                env=env,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_url() -> Iterator[str]:
    """``FLOWCASE_TEST_POSTGRES_URL`` if set, else a throwaway server (see module doc)."""
    configured = os.environ.get(ENV_URL)
    if configured:
        from flowcase.config import Settings

        # Reuse the Heroku-style rewrite (postgres:// -> postgresql+psycopg://).
        yield Settings(database_url=configured).database_url
        return
    with throwaway_postgres() as url:
        yield url
