"""The app's own database: installation records (and job bookkeeping), never customer text.

SQLAlchemy 2 models on :class:`Base`; the schema is created only by the Alembic migrations packaged in
``flowcase/db/migrations`` (``flowcase db upgrade``).
"""

from __future__ import annotations

from flowcase.db.engine import Base, make_engine, session_factory
from flowcase.db.migrate import upgrade

__all__ = ["Base", "make_engine", "session_factory", "upgrade"]
