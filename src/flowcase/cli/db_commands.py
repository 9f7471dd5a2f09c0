"""``flowcase db``: schema migrations, encryption key generation and rotation, installation listing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from flowcase.cli import main
from flowcase.cli.common import EXIT_INVALID, EXIT_SERVICE, fail
from flowcase.config import Settings, get_settings


@contextmanager
def _db_errors(settings: Settings | None = None) -> Iterator[None]:
    try:
        yield
    except ArgumentError:
        fail("DATABASE_URL is not a valid database URL", EXIT_INVALID)
    except SQLAlchemyError as exc:
        where = ""
        if settings is not None:
            try:
                where = f" ({make_url(settings.database_url).render_as_string(hide_password=True)})"
            except ArgumentError:
                where = ""
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        fail(f"database error{where}: {first}", EXIT_SERVICE)


def _settings() -> Settings:
    return get_settings()


@main.group("db")
def db() -> None:
    """The app's own database (installations and job bookkeeping, no customer content): migrations, keys."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target Alembic revision.")
def upgrade_command(revision: str) -> None:
    """Create or migrate the schema (run on every deploy: the Procfile's release step)."""
    from flowcase.db.engine import make_engine
    from flowcase.db.migrate import current_revision, upgrade

    settings = _settings()
    with _db_errors(settings):
        upgrade(settings.database_url, revision)
        engine = make_engine(settings.database_url)
        try:
            click.echo(f"database at revision {current_revision(engine)}")
        finally:
            engine.dispose()


@db.command("current")
def current_command() -> None:
    """Print the schema revision of the configured database."""
    from flowcase.db.engine import make_engine
    from flowcase.db.migrate import current_revision, head_revision

    settings = _settings()
    with _db_errors(settings):
        engine = make_engine(settings.database_url)
        try:
            current = current_revision(engine)
        finally:
            engine.dispose()
    click.echo(f"current: {current or 'none (run flowcase db upgrade)'}; head: {head_revision()}")


@db.command("generate-key")
def generate_key_command() -> None:
    """Print a new encryption key for FLOWCASE_SECRET_KEYS (put it first; keep the old ones after it)."""
    from flowcase.db.crypto import SecretBox

    click.echo(SecretBox.generate_key())


@db.command("rotate-secrets")
def rotate_command() -> None:
    """Re-encrypt every stored secret (shared secrets, sites' Xray/Zephyr credentials) with the first key of
    FLOWCASE_SECRET_KEYS."""
    from flowcase.db.crypto import SecretDecryptionError
    from flowcase.db.vendor import VendorCredentialStore
    from flowcase.hosts.connect.factory import store_from_settings

    settings = _settings()
    with _db_errors(settings):
        store = store_from_settings(settings)
        try:
            changed = store.rotate_secrets() + VendorCredentialStore(store.engine, store.box).rotate()
        except SecretDecryptionError as exc:
            exc.add_note("keep every old key in FLOWCASE_SECRET_KEYS until rotation has finished")
            raise
        finally:
            store.engine.dispose()
    click.echo(f"re-encrypted {changed} secret(s) with the current key")


@db.command("sites")
def sites_command() -> None:
    """List installations (client key, site URL, state); secrets are never shown."""
    from flowcase.hosts.connect.factory import store_from_settings

    settings = _settings()
    with _db_errors(settings):
        store = store_from_settings(settings)
        try:
            views = store.all()
        finally:
            store.engine.dispose()
    for view in views:
        click.echo(f"{view.client_key}\t{view.base_url}\t{view.state.value}\t{view.updated_at.isoformat()}")
    if not views:
        click.echo("no installations")
