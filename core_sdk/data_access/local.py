"""LocalDataAccessManager: CRUD and keyset pagination on the local database."""

from __future__ import annotations

import base64
import binascii
import builtins
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar, cast
from uuid import UUID

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Table, tuple_
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core_sdk.data_access.base import (
    BaseDataAccessManager,
    CreateT,
    ModelT,
    Page,
    ReadT,
    UpdateT,
)
from core_sdk.data_access.errors import integrity_error
from core_sdk.db.session import managed_session
from core_sdk.exceptions import InvalidQueryError, NotFoundError

__all__ = ["LocalDataAccessManager"]

MAX_PAGE_SIZE = 1000


@lru_cache(maxsize=1024)
def _field_adapter(model_cls: Any, field: str) -> TypeAdapter[Any]:
    info = model_cls.model_fields[field]
    return TypeAdapter(info.annotation)


class LocalDataAccessManager(BaseDataAccessManager[ModelT, CreateT, UpdateT, ReadT]):
    """CRUD for one SQLModel table.

    Every method works standalone (it opens and commits its own transaction) or inside an
    enclosing ``managed_session()`` (it only flushes; the outermost scope commits). A unique or
    foreign-key violation raises :class:`~core_sdk.exceptions.IntegrityViolationError` and the
    transaction is rolled back.
    """

    cursor_column: ClassVar[str] = "id"

    # -- helpers ---------------------------------------------------------------------------

    def _table(self) -> Table:
        table = getattr(self.model_cls, "__table__", None)
        if not isinstance(table, Table):
            raise InvalidQueryError(f"{self.model_name} is not a table model (table=True).")
        return table

    def _column_names(self) -> list[str]:
        return [column.key for column in self._table().columns]

    def _primary_key(self) -> str:
        keys = [column.key for column in self._table().primary_key.columns]
        if len(keys) != 1:
            raise InvalidQueryError(
                f"{self.model_name} must have exactly one primary-key column, has {keys}."
            )
        return keys[0]

    def _coerce(self, field: str, value: Any, what: str) -> Any:
        if value is None or field not in self.model_cls.model_fields:
            return value
        try:
            return _field_adapter(cast(Any, self.model_cls), field).validate_python(value)
        except ValidationError as exc:
            raise InvalidQueryError(
                f"{self.model_name}.{what}: invalid value for {field!r}: {exc.errors()[0]['msg']}"
            ) from exc

    def _column(self, name: str) -> ColumnElement[Any]:
        column: ColumnElement[Any] = getattr(self.model_cls, name)
        return column

    async def _flush(self, session: AsyncSession) -> None:
        try:
            await session.flush()
        except SAIntegrityError as exc:
            await session.rollback()
            raise integrity_error(exc, self.model_name) from exc

    def _values(
        self, data: BaseModel | Mapping[str, Any], *, partial: bool, op: str
    ) -> dict[str, Any]:
        if isinstance(data, BaseModel):
            values = data.model_dump(exclude_unset=partial)
        elif isinstance(data, Mapping):
            values = dict(data)
        else:
            raise InvalidQueryError(
                f"{self.model_name}.{op}: data must be a pydantic model or a dict, "
                f"got {type(data).__name__}."
            )
        unknown = sorted(set(values) - set(self.model_cls.model_fields))
        if unknown:
            raise InvalidQueryError(
                f"{self.model_name}.{op}: unknown field(s) {unknown}; "
                f"fields are {sorted(self.model_cls.model_fields)}."
            )
        return values

    def _encode_cursor(self, row: Any) -> str:
        pk = self._primary_key()
        names = [self.cursor_column] if self.cursor_column == pk else [self.cursor_column, pk]
        payload = [
            _field_adapter(cast(Any, self.model_cls), name).dump_python(
                getattr(row, name), mode="json"
            )
            for name in names
        ]
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")

    def _decode_cursor(self, cursor: str, count: int) -> list[Any]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise InvalidQueryError(f"{self.model_name}.list: invalid cursor {cursor!r}.") from exc
        if not isinstance(payload, builtins.list) or len(payload) != count:
            raise InvalidQueryError(f"{self.model_name}.list: invalid cursor {cursor!r}.")
        return payload

    # -- operations ------------------------------------------------------------------------

    async def list(
        self,
        *,
        filters: dict[str, Any] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[ModelT]:
        """Rows matching the equality ``filters``, ordered by ``cursor_column``, keyset-paged."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidQueryError(
                f"{self.model_name}.list: limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}."
            )
        columns = self._column_names()
        if self.cursor_column not in columns:
            raise InvalidQueryError(
                f"{type(self).__name__}.cursor_column {self.cursor_column!r} is not a column of "
                f"{self.model_name}; columns are {columns}."
            )
        pk = self._primary_key()
        order_names = [self.cursor_column] if self.cursor_column == pk else [self.cursor_column, pk]
        statement = select(self.model_cls)
        for name, value in (filters or {}).items():
            if name not in columns:
                raise InvalidQueryError(
                    f"{self.model_name}.list: unknown filter column {name!r}; "
                    f"columns are {columns}."
                )
            column = self._column(name)
            coerced = self._coerce(name, value, "list")
            statement = statement.where(column.is_(None) if coerced is None else column == coerced)
        order_columns = [self._column(name) for name in order_names]
        if cursor is not None:
            raw = self._decode_cursor(cursor, len(order_names))
            values = [
                self._coerce(name, value, "list cursor")
                for name, value in zip(order_names, raw, strict=True)
            ]
            if len(order_columns) == 1:
                statement = statement.where(order_columns[0] > values[0])
            else:
                statement = statement.where(tuple_(*order_columns) > tuple_(*values))
        statement = statement.order_by(*order_columns).limit(limit + 1)
        async with managed_session() as session:
            rows = builtins.list((await session.exec(statement)).all())
        next_cursor = self._encode_cursor(rows[limit - 1]) if len(rows) > limit else None
        page_cls: type[Page[ModelT]] = Page[self.model_cls]  # type: ignore[name-defined]
        return page_cls(items=rows[:limit], next_cursor=next_cursor)

    async def get(self, item_id: UUID) -> ModelT | None:
        """The row with primary key ``item_id``, or None."""
        async with managed_session() as session:
            return await session.get(
                self.model_cls, self._coerce(self._primary_key(), item_id, "get")
            )

    async def create(self, data: CreateT | dict[str, Any]) -> ModelT:
        """Insert a row built from a create schema or a dict; returns the stored row."""
        values = self._values(data, partial=False, op="create")
        try:
            item = self.model_cls.model_validate(values)
        except ValidationError as exc:
            raise InvalidQueryError(f"{self.model_name}.create: invalid data: {exc}") from exc
        async with managed_session() as session:
            session.add(item)
            await self._flush(session)
            await session.refresh(item)
        return item

    async def update(self, item_id: UUID, data: UpdateT | dict[str, Any]) -> ModelT:
        """Set only the fields present in ``data`` (``exclude_unset`` for schemas)."""
        values = self._values(data, partial=True, op="update")
        pk = self._primary_key()
        if pk in values and values[pk] != item_id:
            raise InvalidQueryError(f"{self.model_name}.update: the primary key cannot be changed.")
        coerced = {name: self._coerce(name, value, "update") for name, value in values.items()}
        async with managed_session() as session:
            item = await session.get(self.model_cls, self._coerce(pk, item_id, "update"))
            if item is None:
                raise NotFoundError(
                    f"{self.model_name} {item_id} does not exist.",
                    model_name=self.model_name,
                    item_id=item_id,
                )
            for name, value in coerced.items():
                setattr(item, name, value)
            await self._flush(session)
            await session.refresh(item)
        return item

    async def delete(self, item_id: UUID) -> bool:
        """Delete the row; False when it did not exist."""
        async with managed_session() as session:
            item = await session.get(
                self.model_cls, self._coerce(self._primary_key(), item_id, "delete")
            )
            if item is None:
                return False
            await session.delete(item)
            await self._flush(session)
        return True
