"""Taskiq formatter that only ever writes and reads JSON, with a size limit.

Also :func:`limit_logged_payloads`: taskiq's receiver logs a message it cannot parse in full
(a 2 MB payload on one log line); the filter it installs logs at most
:data:`MAX_LOGGED_PAYLOAD_BYTES` of it, with its size.
"""

from __future__ import annotations

import logging
from typing import Any

from taskiq.abc.formatter import TaskiqFormatter
from taskiq.acks import AcknowledgeType, parse_acknowledge_type
from taskiq.labels import parse_label
from taskiq.message import BrokerMessage, TaskiqMessage

from core_sdk.broker.codec import dumps_any
from core_sdk.exceptions import ArgumentEncodingError, PayloadTooLargeError

__all__ = ["MAX_LOGGED_PAYLOAD_BYTES", "JSONOnlyFormatter", "limit_logged_payloads"]

#: the most of one message payload (or of one exception's text) a log record carries
MAX_LOGGED_PAYLOAD_BYTES = 1024


class JSONOnlyFormatter(TaskiqFormatter):
    """``TaskiqMessage`` <-> strict JSON bytes. Never pickle.

    ``max_message_bytes`` bounds both directions: a larger message is refused before it is
    sent, and a larger incoming one is rejected (the worker logs and acknowledges it).
    """

    def __init__(self, max_message_bytes: int | None = None) -> None:
        self.max_message_bytes = max_message_bytes

    def _check(self, size: int, task_name: str) -> None:
        if self.max_message_bytes is not None and size > self.max_message_bytes:
            raise PayloadTooLargeError(
                f"Message for {task_name} is {size} bytes; the limit (MAX_MESSAGE_BYTES) is "
                f"{self.max_message_bytes} bytes."
            )

    def dumps(self, message: TaskiqMessage) -> BrokerMessage:
        # one pass in pydantic-core (see codec.dumps_any: strict JSON but for NaN/Infinity)
        try:
            data = dumps_any(message)
        except (ValueError, RecursionError) as exc:  # lone surrogates, too deep nesting, ...
            reason = str(exc).splitlines()[-1].strip() if str(exc) else type(exc).__name__
            raise ArgumentEncodingError(
                f"{_call_name(message)}: the call cannot be encoded as JSON: {reason}"
            ) from exc
        self._check(len(data), message.task_name)
        return BrokerMessage(
            task_id=message.task_id,
            task_name=message.task_name,
            message=data,
            labels=message.labels,
        )

    def loads(self, message: bytes) -> TaskiqMessage:
        """Parse an incoming message; raise (taskiq then logs and acknowledges it) when it is
        too large, not a taskiq message, or has an ``ack_type`` label the worker cannot honour
        (an invalid one made taskiq fail before acknowledging, and ``manual`` is acknowledged
        by no core_sdk task: either left the entry pending for ever)."""
        self._check(len(message), "an incoming task")
        parsed = TaskiqMessage.model_validate_json(message)
        if "ack_type" in parsed.labels:
            _check_ack_type(parsed)
        return parsed


def _check_ack_type(message: TaskiqMessage) -> None:
    value: Any = message.labels["ack_type"]
    try:
        value = parse_label(value, (message.labels_types or {}).get("ack_type"))
        usable = parse_acknowledge_type(value) is not AcknowledgeType.MANUAL
    except ValueError:
        usable = False
    if not usable:
        raise ValueError(
            f"task {message.task_id!r} has the ack_type label {value!r}, which this worker "
            "cannot honour (core_sdk tasks are acknowledged by the worker: use no ack_type, "
            "or when_saved); the message is set aside"
        )


def _call_name(message: TaskiqMessage) -> str:
    """``Model.method`` for a DAM call, else the task name."""
    from core_sdk.broker.operations import TASK_NAME

    args = message.args
    if message.task_name == TASK_NAME and len(args) >= 2:
        name = f"{args[0]}.{args[1]}"
    else:
        name = message.task_name
    return name.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates in the error


class _PayloadLogLimit(logging.Filter):
    """Shortens long bytes/str arguments (and exception texts) of a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_shorten(arg) for arg in record.args)
        return True


def _shorten(value: Any) -> Any:
    limit = MAX_LOGGED_PAYLOAD_BYTES
    if isinstance(value, bytes | bytearray) and len(value) > limit:
        return f"{bytes(value[:limit])!r}... ({len(value)} bytes, only the first {limit} logged)"
    if isinstance(value, BaseException):
        try:
            text = str(value)
        except Exception:
            return value
        value = text if len(text) > limit else value
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}... ({len(value)} characters, only the first {limit} logged)"
    return value


_payload_log_limit = _PayloadLogLimit()


def limit_logged_payloads() -> None:
    """Install the payload limit on taskiq's receiver loggers (idempotent)."""
    for name in ("taskiq.receiver.receiver", "taskiq.receiver.params_parser"):
        target = logging.getLogger(name)
        if _payload_log_limit not in target.filters:
            target.addFilter(_payload_log_limit)
