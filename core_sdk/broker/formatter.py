"""Taskiq formatter that only ever writes and reads JSON, with a size limit."""

from __future__ import annotations

from taskiq.abc.formatter import TaskiqFormatter
from taskiq.message import BrokerMessage, TaskiqMessage

from core_sdk.broker.codec import dumps_any
from core_sdk.exceptions import ArgumentEncodingError, PayloadTooLargeError

__all__ = ["JSONOnlyFormatter"]


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
        self._check(len(message), "an incoming task")
        return TaskiqMessage.model_validate_json(message)


def _call_name(message: TaskiqMessage) -> str:
    """``Model.method`` for a DAM call, else the task name."""
    from core_sdk.broker.operations import TASK_NAME

    args = message.args
    if message.task_name == TASK_NAME and len(args) >= 2:
        name = f"{args[0]}.{args[1]}"
    else:
        name = message.task_name
    return name.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates in the error
