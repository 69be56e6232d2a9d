from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .managers import DepotManager
from .models import Depot, DepotCreate, DepotRead, DepotUpdate, Parcel, ParcelCreate, ParcelRead


def register() -> None:
    ModelRegistry.register_local(
        model_cls=Depot,
        read_schema_cls=DepotRead,
        manager_cls=DepotManager,
        create_schema_cls=DepotCreate,
        update_schema_cls=DepotUpdate,
    )
    ModelRegistry.register_local(
        model_cls=Parcel, read_schema_cls=ParcelRead, create_schema_cls=ParcelCreate
    )


register()
