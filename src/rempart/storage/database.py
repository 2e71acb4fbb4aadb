"""The database handle: an engine, a session factory and the tenant hooks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from rempart.storage.engine import make_engine
from rempart.storage.tenancy import (
    PLATFORM_KEY,
    TENANT_KEY,
    TenantContext,
    check_flush,
    scope_orm_execute,
    set_pg_tenant,
)


class Database:
    """Owns the engine; hands out sessions scoped to a tenant or to the platform."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._factory = sessionmaker(bind=engine, expire_on_commit=False)
        event.listen(self._factory, "do_orm_execute", scope_orm_execute)
        event.listen(self._factory, "before_flush", check_flush)
        if self.dialect == "postgresql":
            event.listen(self._factory, "after_begin", set_pg_tenant)

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 5) -> Database:
        return cls(make_engine(url, pool_size=pool_size))

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def tenant_session(self, ctx: TenantContext) -> Iterator[Session]:
        """A session (and transaction) acting for one tenant; commits on success."""
        with self._factory() as session:
            session.info[TENANT_KEY] = str(ctx.tenant_id)
            with session.begin():
                yield session

    @contextmanager
    def platform_session(self) -> Iterator[Session]:
        """A session for platform tables (the tenant registry); no tenant data."""
        with self._factory() as session:
            session.info[PLATFORM_KEY] = True
            with session.begin():
                yield session

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        with self.engine.connect() as conn:
            return bool(conn.execute(text("SELECT 1")).scalar_one() == 1)

    def dispose(self) -> None:
        self.engine.dispose()


__all__ = ["Database"]
