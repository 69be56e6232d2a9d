"""Data access managers, the factory, and the broker proxies (typed and dynamic)."""

from core_sdk.data_access.base import BaseDataAccessManager, Page
from core_sdk.data_access.dynamic_proxy import BrokerTaskProxy
from core_sdk.data_access.factory import DataAccessManagerFactory, get_dam_factory
from core_sdk.data_access.local import LocalDataAccessManager
from core_sdk.data_access.typed_proxy import (
    DAM_DEFAULT,
    Operation,
    TaskHandle,
    TypedBrokerProxy,
    register_generated_module,
)

__all__ = [
    "DAM_DEFAULT",
    "BaseDataAccessManager",
    "BrokerTaskProxy",
    "DataAccessManagerFactory",
    "LocalDataAccessManager",
    "Operation",
    "Page",
    "TaskHandle",
    "TypedBrokerProxy",
    "get_dam_factory",
    "register_generated_module",
]
