"""Exceptions raised by core_sdk. Every one of them is a :class:`CoreSDKError`."""

from __future__ import annotations

__all__ = [
    "ArgumentEncodingError",
    "BrokerConnectionError",
    "ConfigurationError",
    "CoreSDKError",
    "DatabaseUnavailableError",
    "ExecutionTimeoutError",
    "IntegrityViolationError",
    "InvalidQueryError",
    "NotFoundError",
    "OperationRefusedError",
    "OperationTimeoutError",
    "PayloadTooLargeError",
    "RemoteOperationError",
    "ResultDecodingError",
    "ResultEncodingError",
    "VersionSkewError",
]


class CoreSDKError(Exception):
    """Base class of every error raised by core_sdk."""


class ConfigurationError(CoreSDKError):
    """The SDK is misconfigured (bad environment variable, registry not loaded, ...)."""


class NotFoundError(CoreSDKError, LookupError):
    """A row (or a registered model) does not exist."""

    def __init__(self, message: str, *, model_name: str | None = None, item_id: object = None):
        super().__init__(message)
        self.model_name = model_name
        self.item_id = item_id


class InvalidQueryError(CoreSDKError, ValueError):
    """A DAM query is malformed: unknown filter column, bad cursor, bad limit, unknown field."""


class IntegrityViolationError(CoreSDKError):
    """A unique, foreign-key, not-null or check constraint was violated; the write was rolled back.

    ``kind`` is one of ``"unique"``, ``"foreign_key"``, ``"not_null"``, ``"check"``,
    ``"integrity"`` (unknown); ``constraint`` is the constraint name when the driver reports it.
    """

    def __init__(
        self,
        message: str,
        *,
        model_name: str | None = None,
        constraint: str | None = None,
        kind: str = "integrity",
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.model_name = model_name
        self.constraint = constraint
        self.kind = kind
        self.detail = detail


class OperationRefusedError(CoreSDKError):
    """The worker refused to run an operation (private, unknown, not async, not allowlisted)."""


class VersionSkewError(OperationRefusedError):
    """The caller's stub was generated from a different signature than the worker's method."""


class ArgumentEncodingError(CoreSDKError, TypeError):
    """An argument does not match the declared parameter type (caller or worker side)."""


class PayloadTooLargeError(ArgumentEncodingError):
    """An encoded message exceeds ``MAX_MESSAGE_BYTES``; it was not sent."""


class ResultEncodingError(CoreSDKError, TypeError):
    """A DAM method returned a value that does not match (or cannot be encoded as) its declared
    return type (worker side); the operation's transaction was rolled back."""


class BrokerConnectionError(CoreSDKError, ConnectionError):
    """The broker (Redis) could not be reached while sending a call or waiting for its result."""


class DatabaseUnavailableError(CoreSDKError, ConnectionError):
    """The database (``DATABASE_URL``) could not be reached (down, starting, unreachable)."""


class ResultDecodingError(CoreSDKError):
    """A stored result could not be decoded into the declared return type."""


class OperationTimeoutError(CoreSDKError, TimeoutError):
    """No result arrived within ``_broker_timeout`` seconds. The operation may still complete.

    ``connection_lost`` is true when the caller's connection to Redis was lost during the wait
    (Redis restarted or unreachable): the call may then also have been lost with it.
    """

    def __init__(
        self,
        message: str,
        *,
        task_id: str | None = None,
        timeout: float | None = None,
        connection_lost: bool = False,
    ):
        super().__init__(message)
        self.task_id = task_id
        self.timeout = timeout
        self.connection_lost = connection_lost


class ExecutionTimeoutError(OperationTimeoutError):
    """Raised in the worker: the operation ran longer than ``OPERATION_TIMEOUT_SECONDS`` and was
    cancelled; its transaction was rolled back. Its caller gets a RemoteOperationError whose
    ``remote_type`` is ``"ExecutionTimeoutError"``."""


class RemoteOperationError(CoreSDKError):
    """An exception raised inside the worker, carried back as its type name and message.

    The remote exception class is never imported or instantiated on the calling side;
    compare ``remote_type`` (the class name, e.g. ``"IntegrityViolationError"``) instead.
    """

    def __init__(
        self,
        remote_type: str,
        message: str,
        *,
        remote_module: str | None = None,
        model_name: str | None = None,
        method_name: str | None = None,
        task_id: str | None = None,
    ) -> None:
        where = f"{model_name}.{method_name}" if model_name and method_name else "operation"
        super().__init__(f"{where} failed in the worker: {remote_type}: {message}")
        self.remote_type = remote_type
        self.remote_module = remote_module
        self.message = message
        self.model_name = model_name
        self.method_name = method_name
        self.task_id = task_id

    @property
    def remote_qualname(self) -> str:
        """``module.ClassName`` of the remote exception when the module is known."""
        if self.remote_module:
            return f"{self.remote_module}.{self.remote_type}"
        return self.remote_type
