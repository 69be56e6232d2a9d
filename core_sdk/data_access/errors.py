"""Translate driver integrity errors into IntegrityViolationError."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError as SAIntegrityError

from core_sdk.exceptions import IntegrityViolationError

__all__ = ["integrity_error"]

# PostgreSQL SQLSTATE codes
_PG_KINDS = {
    "23505": "unique",
    "23503": "foreign_key",
    "23502": "not_null",
    "23514": "check",
    "23P01": "exclusion",
}
_SQLITE_KINDS = (
    ("UNIQUE constraint failed", "unique"),
    ("FOREIGN KEY constraint failed", "foreign_key"),
    ("NOT NULL constraint failed", "not_null"),
    ("CHECK constraint failed", "check"),
)
_KIND_TEXT = {
    "unique": "unique constraint",
    "foreign_key": "foreign-key constraint",
    "not_null": "not-null constraint",
    "check": "check constraint",
    "exclusion": "exclusion constraint",
    "integrity": "integrity constraint",
}


def _driver_error(exc: SAIntegrityError) -> BaseException | None:
    """The innermost driver exception (asyncpg's, which names the constraint, or sqlite3's)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc.orig
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__
    for candidate in reversed(chain):
        if hasattr(candidate, "constraint_name") or getattr(candidate, "sqlstate", None):
            return candidate
    return chain[-1] if chain else None


def integrity_error(exc: SAIntegrityError, model_name: str | None) -> IntegrityViolationError:
    """Build the SDK error for ``exc`` naming the model and the violated constraint."""
    driver = _driver_error(exc)
    kind = "integrity"
    constraint: str | None = None
    detail: str | None = None
    sqlstate = getattr(driver, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate in _PG_KINDS:
        kind = _PG_KINDS[sqlstate]
        constraint = getattr(driver, "constraint_name", None)
        detail = getattr(driver, "detail", None) or str(driver).strip() or None
    else:
        text = str(driver if driver is not None else exc).strip()
        for marker, marker_kind in _SQLITE_KINDS:
            if marker in text:
                kind = marker_kind
                match = re.search(re.escape(marker) + r":\s*(.+)$", text)
                constraint = match.group(1).strip() if match else None
                break
        detail = text or None
    where = f"{model_name}: " if model_name else ""
    what = _KIND_TEXT[kind]
    named = f" {constraint!r}" if constraint else ""
    message = f"{where}{what}{named} violated; the write was rolled back"
    if detail:
        message += f" ({detail})"
    return IntegrityViolationError(
        message, model_name=model_name, constraint=constraint, kind=kind, detail=detail
    )
