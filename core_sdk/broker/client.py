"""Calling side: send ``execute_dam_operation`` and wait for its pushed result."""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from redis.exceptions import RedisError
from taskiq import AsyncBroker
from taskiq.exceptions import SendTaskError

from core_sdk.broker.operations import TASK_NAME, register_dam_task
from core_sdk.broker.result_backend import DAMResultBackend, StoredResult
from core_sdk.exceptions import (
    BrokerConnectionError,
    ConfigurationError,
    CoreSDKError,
    OperationTimeoutError,
)

__all__ = [
    "call_operation",
    "check_timeout",
    "default_broker",
    "kick_operation",
    "request_operation",
    "result_backend_of",
    "wait_operation",
]


_get_broker: Callable[[], AsyncBroker] | None = None


def default_broker() -> AsyncBroker:
    """The process-wide broker (``core_sdk.broker.setup.get_broker``).

    ``setup`` builds the broker when it is imported, so it is imported on first use (not when
    this module loads) and kept: no import statement runs per call.
    """
    global _get_broker
    if _get_broker is None:
        from core_sdk.broker.setup import get_broker

        _get_broker = get_broker
    return _get_broker()


def check_timeout(value: float, name: str = "_broker_timeout") -> None:
    """Refuse a wait that is not a finite number of seconds above zero (``nan`` would hang)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number of seconds above 0, got {value!r}")


def _broker(broker: AsyncBroker | None) -> AsyncBroker:
    return broker if broker is not None else default_broker()


def result_backend_of(broker: AsyncBroker) -> DAMResultBackend:
    """The broker's result backend, which must be one of core_sdk's JSON backends."""
    backend = broker.result_backend
    if not isinstance(backend, DAMResultBackend):
        raise ConfigurationError(
            f"The broker's result backend is {type(backend).__name__}; DAM calls need a core_sdk "
            "JSON result backend. Build the broker with core_sdk.broker.setup.build_broker()."
        )
    return backend


async def kick_operation(
    model_name: str,
    method_name: str,
    args: Sequence[Any] | str,
    kwargs: Mapping[str, Any],
    fingerprint: str | None,
    *,
    broker: AsyncBroker | None = None,
    expect_timeout: float | None = None,
) -> str:
    """Send one call (already JSON-encoded arguments); returns the task id.

    ``args`` is a list of positional arguments, or the JSON text of one object of every
    argument by name (``Operation.encode_arguments_json``; ``kwargs`` is then empty).

    With ``expect_timeout`` the caller's wait is registered before sending (used by
    :func:`call_operation`); otherwise the result is read later with ``check_first``.
    """
    if not isinstance(args, list | tuple | str):  # a dict would be sent as its keys
        raise TypeError(
            f"{model_name}.{method_name}: args must be a list or tuple of positional arguments "
            f"or the JSON text of all arguments, not {type(args).__name__}"
        )
    target = _broker(broker)
    backend = result_backend_of(target)
    task = target.find_task(TASK_NAME) or register_dam_task(target)
    task_id = target.id_generator()
    if expect_timeout is not None:
        await backend.expect(task_id, expect_timeout)
    kicker = task.kicker().with_broker(target).with_task_id(task_id)
    # an awaited call may get its result pushed (no key, no second round trip); a handle's
    # result is stored, to be read when the caller asks for it
    labels = backend.reply_labels(push=expect_timeout is not None)
    if labels:
        kicker = kicker.with_labels(**labels)
    try:
        sent_args = args if isinstance(args, str) else list(args)
        await kicker.kiq(model_name, method_name, sent_args, dict(kwargs), fingerprint)
    except SendTaskError as exc:
        backend.forget(task_id)
        cause = exc.__cause__
        if isinstance(cause, CoreSDKError):
            raise cause from None
        raise BrokerConnectionError(
            f"Could not send {model_name}.{method_name} to the broker: {cause or exc}"
        ) from exc
    except BaseException:
        backend.forget(task_id)
        raise
    return task_id


async def wait_operation(
    task_id: str,
    timeout: float,
    *,
    broker: AsyncBroker | None = None,
    check_first: bool = False,
) -> StoredResult:
    """Wait for the result of ``task_id`` (pushed), consume it and return it."""
    check_timeout(timeout, "timeout")
    return await result_backend_of(_broker(broker)).wait(task_id, timeout, check_first=check_first)


async def call_operation(
    model_name: str,
    method_name: str,
    args: Sequence[Any] | str,
    kwargs: Mapping[str, Any],
    fingerprint: str | None,
    timeout: float,
    *,
    broker: AsyncBroker | None = None,
) -> Any:
    """Send one call and wait for it; returns the JSON return value (parsed) or raises.

    See :func:`request_operation`.
    """
    stored = await request_operation(
        model_name, method_name, args, kwargs, fingerprint, timeout, broker=broker
    )
    return stored.return_value


async def request_operation(
    model_name: str,
    method_name: str,
    args: Sequence[Any] | str,
    kwargs: Mapping[str, Any],
    fingerprint: str | None,
    timeout: float,
    *,
    broker: AsyncBroker | None = None,
) -> StoredResult:
    """Send one call and wait for it; returns its successful result or raises.

    Raises RemoteOperationError (the worker raised), OperationTimeoutError (no result within
    ``timeout`` seconds) or BrokerConnectionError (Redis unreachable).
    """
    check_timeout(timeout)
    target = _broker(broker)
    deadline = time.monotonic() + timeout  # sending and waiting share the one budget
    try:
        task_id = await kick_operation(
            model_name,
            method_name,
            args,
            kwargs,
            fingerprint,
            broker=target,
            expect_timeout=timeout,
        )
        remaining = max(deadline - time.monotonic(), 0.001)
        stored = await wait_operation(task_id, remaining, broker=target)
    except OperationTimeoutError as exc:
        raise OperationTimeoutError(
            f"{model_name}.{method_name} did not complete within {timeout:g} s "
            f"(task {exc.task_id}); "
            + (
                "the connection to Redis was lost while waiting (Redis restarted or "
                "unreachable?): the call may have been lost, or it may still complete in the "
                "worker."
                if exc.connection_lost
                else "it may still complete in the worker."
            ),
            task_id=exc.task_id,
            timeout=timeout,
            connection_lost=exc.connection_lost,
        ) from None
    except RedisError as exc:
        raise BrokerConnectionError(
            f"Redis failed during {model_name}.{method_name}: {exc}"
        ) from exc
    if stored.is_err:
        raise stored.to_exception(model_name=model_name, method_name=method_name, task_id=task_id)
    return stored
