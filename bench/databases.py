"""A fresh, empty benchmark database (a temporary SQLite file, or a PostgreSQL database created
and dropped around the run), shared by every benchmark."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bench_database(server_url: str, name: str) -> Iterator[tuple[str, str]]:
    """The backend name and SQLAlchemy URL of a database `name`, removed afterwards."""
    if not server_url or server_url.startswith("sqlite"):
        directory = tempfile.mkdtemp(prefix=f"{name}-")
        try:
            yield "sqlite", f"sqlite:///{directory}/bench.db"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(server_url)
    admin = server.set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield "postgresql", server.set(database=name).render_as_string(hide_password=False)
    finally:
        from core.db import get_engine

        get_engine().dispose()
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
