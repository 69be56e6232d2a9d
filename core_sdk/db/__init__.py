"""Database engine and sessions."""

from core_sdk.db.session import (
    close_db,
    create_db_and_tables,
    get_current_session,
    get_engine,
    init_db,
    managed_session,
)

__all__ = [
    "close_db",
    "create_db_and_tables",
    "get_current_session",
    "get_engine",
    "init_db",
    "managed_session",
]
