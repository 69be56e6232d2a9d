"""BaseDataAccessManager and the typed page result."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel

from core_sdk.exceptions import ConfigurationError

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["BaseDataAccessManager", "CreateT", "ItemT", "ModelT", "Page", "ReadT", "UpdateT"]

logger = logging.getLogger("core_sdk.data_access")

ModelT = TypeVar("ModelT", bound=SQLModel)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)
ReadT = TypeVar("ReadT", bound=BaseModel)
ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a keyset-paginated list. Pass ``next_cursor`` back to get the next page."""

    items: list[ItemT]
    next_cursor: str | None = None


class BaseDataAccessManager(Generic[ModelT, CreateT, UpdateT, ReadT]):
    """Base of every DAM: one instance manages one registered model.

    Public ``async def`` methods are *operations*: they can be run in a worker through
    ``manager.broker.<method>(...)``.
    """

    model_name: str
    model_cls: type[ModelT]
    read_schema_cls: type[ReadT] | None
    create_schema_cls: type[CreateT] | None
    update_schema_cls: type[UpdateT] | None

    def __init__(
        self,
        model_name: str,
        model_cls: type[ModelT],
        read_schema_cls: type[ReadT] | None = None,
        create_schema_cls: type[CreateT] | None = None,
        update_schema_cls: type[UpdateT] | None = None,
    ) -> None:
        self.model_name = model_name
        self.model_cls = model_cls
        self.read_schema_cls = read_schema_cls
        self.create_schema_cls = create_schema_cls
        self.update_schema_cls = update_schema_cls
        self._broker_proxy: Any = None

    @property
    def session(self) -> AsyncSession:
        """The session of the enclosing ``managed_session()`` (the worker always opens one).

        A SQLModel ``AsyncSession``: ``(await self.session.exec(select(Model))).all()``.
        """
        from core_sdk.db.session import get_current_session

        session = get_current_session()
        if session is None:
            raise ConfigurationError(
                f"{type(self).__name__}.session used outside a session: wrap the call in "
                "`async with managed_session():` (the worker does this for every operation)."
            )
        return session

    @property
    def broker(self) -> Any:
        """Run this manager's operations in a worker: ``await manager.broker.method(...)``.

        Returns the generated typed proxy when the service's generated module is imported,
        otherwise the dynamic :class:`~core_sdk.data_access.BrokerTaskProxy`.
        """
        if self._broker_proxy is None:
            from core_sdk.data_access.dynamic_proxy import BrokerTaskProxy
            from core_sdk.data_access.typed_proxy import generated_proxy_for

            proxy_cls = generated_proxy_for(self.model_name)
            if proxy_cls is not None:
                self._broker_proxy = proxy_cls()
            else:
                self._broker_proxy = BrokerTaskProxy(self.model_name, type(self))
        return self._broker_proxy

    def __repr__(self) -> str:
        return f"<{type(self).__name__} model={self.model_name!r}>"
