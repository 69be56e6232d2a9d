"""One async engine per process, and a context-scoped unit of work.

``managed_session()`` opens a session, or reuses the one already open in the current context
(asyncio task). The outermost scope owns the transaction: it commits when the block exits
normally and rolls back when it raises. DAM methods flush; they do not commit on their own
when an outer scope is open, so one worker operation is one transaction.

Sessions are SQLModel's :class:`sqlmodel.ext.asyncio.session.AsyncSession` (a subclass of
SQLAlchemy's, adding the typed ``session.exec(select(...))``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from core_sdk.exceptions import ConfigurationError, DatabaseUnavailableError

__all__ = [
    "AsyncSession",
    "check_database",
    "close_db",
    "create_db_and_tables",
    "get_current_session",
    "get_engine",
    "init_db",
    "managed_session",
]

logger = logging.getLogger("core_sdk.db")

_engine: AsyncEngine | None = None
_engine_url: str | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None
_current_session: ContextVar[AsyncSession | None] = ContextVar(
    "core_sdk_current_session", default=None
)


def init_db(url: str, engine_options: Mapping[str, Any] | None = None) -> AsyncEngine:
    """Create the process-wide async engine for ``url`` (idempotent for the same URL).

    ``engine_options`` go to :func:`sqlalchemy.ext.asyncio.create_async_engine`.
    """
    global _engine, _engine_url, _sessionmaker
    if _engine is not None:
        if _engine_url == url:
            return _engine
        raise ConfigurationError(
            "init_db() was already called with a different DATABASE_URL; call close_db() first."
        )
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"DATABASE_URL is not a valid SQLAlchemy URL: {exc}") from exc
    options: dict[str, Any] = dict(engine_options or {})
    if parsed.get_backend_name() == "sqlite":
        # SQLite has no server-side pool sizing; drop options that only make sense for servers.
        for key in ("pool_size", "max_overflow", "pool_pre_ping"):
            options.pop(key, None)
    try:
        engine = create_async_engine(url, **options)
    except (ArgumentError, ImportError, TypeError) as exc:
        raise ConfigurationError(
            f"Cannot create a database engine for DATABASE_URL: {exc}"
        ) from exc
    _engine = engine
    _engine_url = url
    _sessionmaker = async_sessionmaker(
        engine, class_=AsyncSession, expire_on_commit=False, autoflush=True
    )
    logger.debug("Database engine created for %s", parsed.render_as_string(hide_password=True))
    return engine


def get_engine() -> AsyncEngine:
    """The engine created by :func:`init_db`."""
    if _engine is None:
        raise ConfigurationError(
            "The database is not initialised: call init_db(DATABASE_URL) at startup "
            "(the worker does it in initialize_worker_context). Seen in an API process? Then "
            "operations ran in this process on the in-memory broker, because REDIS_URL is not "
            "set or Redis was unreachable (see the warning at start-up): set REDIS_URL so they "
            "go to a worker."
        )
    return _engine


async def close_db() -> None:
    """Dispose of the engine (safe to call when none exists)."""
    global _engine, _engine_url, _sessionmaker
    engine = _engine
    _engine = None
    _engine_url = None
    _sessionmaker = None
    if engine is not None:
        await engine.dispose()


# SQLSTATE classes/codes of a server that may accept connections later: connection exception,
# insufficient resources (too many connections), "the database system is starting up"
_TRANSIENT_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")


async def check_database(timeout: float = 10.0) -> None:
    """``SELECT 1`` on the engine of :func:`init_db`, within ``timeout`` seconds.

    Raises DatabaseUnavailableError when the server cannot be reached (refused, unknown host,
    timeout, starting up, too many connections: it may work later) and ConfigurationError when
    ``DATABASE_URL`` cannot work as it is (no such database, role or password refused, ...).
    Both name ``DATABASE_URL`` (without its password).
    """
    engine = get_engine()
    where = f"DATABASE_URL ({engine.url.render_as_string(hide_password=True)})"
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError as exc:
        raise DatabaseUnavailableError(
            f"{where} did not answer SELECT 1 within {timeout:g} s."
        ) from exc
    except Exception as exc:
        chain = _exception_chain(exc)
        reason = f"{type(chain[-1]).__name__}: {_first_line(chain[-1])}"
        transient = any(
            isinstance(link, OSError)
            or str(getattr(link, "sqlstate", "") or "").startswith(_TRANSIENT_SQLSTATES)
            for link in chain
        )
        if transient:
            raise DatabaseUnavailableError(f"{where} is unreachable: {reason}") from exc
        raise ConfigurationError(f"{where} cannot be used: {reason}") from exc


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip()
    return text_.splitlines()[0] if text_ else "(no message)"


def get_current_session() -> AsyncSession | None:
    """The session of the enclosing :func:`managed_session` in this context, if any."""
    return _current_session.get()


@asynccontextmanager
async def managed_session() -> AsyncIterator[AsyncSession]:
    """Yield the current session, or open one that commits on success and rolls back on error.

    A unique/foreign-key violation raised while committing becomes
    :class:`~core_sdk.exceptions.IntegrityViolationError`.
    """
    existing = _current_session.get()
    if existing is not None:
        yield existing
        return
    get_engine()
    assert _sessionmaker is not None
    async with _sessionmaker() as session:
        token = _current_session.set(session)
        try:
            yield session
            try:
                if session.in_transaction():
                    await session.commit()
            except SAIntegrityError as exc:
                await session.rollback()
                from core_sdk.data_access.errors import integrity_error

                raise integrity_error(exc, None) from exc
        except BaseException:
            if session.in_transaction():
                await session.rollback()
            raise
        finally:
            _current_session.reset(token)


async def create_db_and_tables() -> None:
    """Create every SQLModel table on the engine (demos and tests; use migrations in prod)."""
    async with get_engine().begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
