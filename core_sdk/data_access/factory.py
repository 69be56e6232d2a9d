"""DataAccessManagerFactory: model name -> manager instance (cached per factory)."""

from __future__ import annotations

from typing import Any

from core_sdk.data_access.base import BaseDataAccessManager
from core_sdk.registry import ModelRegistry

__all__ = ["DataAccessManagerFactory", "get_dam_factory"]


class DataAccessManagerFactory:
    """Builds the registered manager for a model name; one instance per name per factory.

    A factory is cheap; create one per request (``Depends(get_dam_factory)``) or per worker
    operation. Names are case-insensitive; an unknown name raises NotFoundError listing the
    registered ones.
    """

    def __init__(self) -> None:
        self._managers: dict[str, BaseDataAccessManager[Any, Any, Any, Any]] = {}

    def get_manager(self, model_name: str) -> Any:
        """The manager registered for ``model_name``.

        Annotated ``-> Any`` here; the generated factory subclass narrows it per literal name.
        """
        return self._get(model_name)

    def _get(self, model_name: str) -> BaseDataAccessManager[Any, Any, Any, Any]:
        key = model_name.lower()
        manager = self._managers.get(key)
        if manager is None:
            info = ModelRegistry.get_model_info(model_name)
            manager = info.manager_cls(
                model_name=info.model_name,
                model_cls=info.model_cls,
                read_schema_cls=info.read_schema_cls,
                create_schema_cls=info.create_schema_cls,
                update_schema_cls=info.update_schema_cls,
            )
            self._managers[key] = manager
        return manager


def get_dam_factory() -> DataAccessManagerFactory:
    """A fresh factory; usable as a FastAPI dependency: ``Depends(get_dam_factory)``."""
    return DataAccessManagerFactory()
