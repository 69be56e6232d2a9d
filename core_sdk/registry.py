"""The model registry: which models a service exposes, and which DAM class manages each one.

Names are case-insensitive (``"company"`` finds ``"Company"``); the name given at registration
(default: the model class name) is the canonical one used on the wire and in generated code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel

from core_sdk.exceptions import ConfigurationError, NotFoundError

if TYPE_CHECKING:
    from core_sdk.data_access.base import BaseDataAccessManager

__all__ = ["ModelInfo", "ModelRegistry"]


@dataclass(frozen=True)
class ModelInfo:
    """One registered model."""

    model_name: str
    model_cls: type[Any]
    manager_cls: type[BaseDataAccessManager[Any, Any, Any, Any]]
    read_schema_cls: type[BaseModel] | None = None
    create_schema_cls: type[BaseModel] | None = None
    update_schema_cls: type[BaseModel] | None = None

    def manager_substitutions(self) -> dict[TypeVar, Any]:
        """The base manager's type variables filled from this registration.

        The worker decodes and the generator types un-parameterised managers with these; a
        schema that is not registered accepts a plain ``dict[str, Any]``.
        """
        from core_sdk.data_access.base import CreateT, ModelT, ReadT, UpdateT

        schema_or_dict: Any = dict[str, Any]
        return {
            ModelT: self.model_cls,
            CreateT: self.create_schema_cls or schema_or_dict,
            UpdateT: self.update_schema_cls or schema_or_dict,
            ReadT: self.read_schema_cls or schema_or_dict,
        }


class ModelRegistry:
    """Process-wide registry of models (class-level state; use the classmethods)."""

    _models: ClassVar[dict[str, ModelInfo]] = {}

    @classmethod
    def register(cls, info: ModelInfo) -> ModelInfo:
        """Register ``info``. Registering the same thing twice is a no-op; a clash is an error."""
        from core_sdk.data_access.base import BaseDataAccessManager

        if not info.model_name or not info.model_name.isidentifier():
            raise ConfigurationError(
                f"Model name {info.model_name!r} is not a valid identifier "
                f"(registering {info.model_cls!r})."
            )
        if not (
            isinstance(info.manager_cls, type)
            and issubclass(info.manager_cls, BaseDataAccessManager)
        ):
            raise ConfigurationError(
                f"manager_cls for model {info.model_name!r} must be a subclass of "
                f"BaseDataAccessManager, got {info.manager_cls!r}."
            )
        key = info.model_name.lower()
        existing = cls._models.get(key)
        if existing is not None and existing != info:
            raise ConfigurationError(
                f"Model name {info.model_name!r} is already registered "
                f"(as {existing.model_name!r} for {existing.model_cls.__qualname__} managed by "
                f"{existing.manager_cls.__qualname__}); names are case-insensitive."
            )
        cls._models[key] = info
        return info

    @classmethod
    def register_local(
        cls,
        model_cls: type[Any],
        read_schema_cls: type[BaseModel] | None = None,
        manager_cls: type[BaseDataAccessManager[Any, Any, Any, Any]] | None = None,
        create_schema_cls: type[BaseModel] | None = None,
        update_schema_cls: type[BaseModel] | None = None,
        model_name: str | None = None,
    ) -> ModelInfo:
        """Register a model served from the local database.

        ``manager_cls`` defaults to :class:`~core_sdk.data_access.LocalDataAccessManager`.
        """
        from core_sdk.data_access.local import LocalDataAccessManager

        if not isinstance(model_cls, type):
            raise ConfigurationError(f"model_cls must be a class, got {model_cls!r}.")
        info = ModelInfo(
            model_name=model_name or model_cls.__name__,
            model_cls=model_cls,
            manager_cls=manager_cls or LocalDataAccessManager,
            read_schema_cls=read_schema_cls,
            create_schema_cls=create_schema_cls,
            update_schema_cls=update_schema_cls,
        )
        return cls.register(info)

    @classmethod
    def get_model_info(cls, model_name: str) -> ModelInfo:
        """The registration for ``model_name`` (any case); NotFoundError lists the known names."""
        info = cls._models.get(model_name.lower()) if isinstance(model_name, str) else None
        if info is None:
            known = ", ".join(cls.model_names()) or "none (is the registry config imported?)"
            raise NotFoundError(
                f"Unknown model {model_name!r}. Registered models: {known}.",
                model_name=str(model_name),
            )
        return info

    @classmethod
    def find(cls, model_name: str) -> ModelInfo | None:
        """Like :meth:`get_model_info` but returns None for an unknown name."""
        return cls._models.get(model_name.lower())

    @classmethod
    def model_names(cls) -> list[str]:
        """Canonical names of every registered model, sorted."""
        return sorted(info.model_name for info in cls._models.values())

    @classmethod
    def all_models(cls) -> list[ModelInfo]:
        """Every registration, sorted by model name."""
        return sorted(cls._models.values(), key=lambda info: info.model_name)

    @classmethod
    def is_configured(cls) -> bool:
        """True when at least one model is registered."""
        return bool(cls._models)

    @classmethod
    def clear(cls) -> None:
        """Forget every registration (tests, reloads)."""
        cls._models.clear()
