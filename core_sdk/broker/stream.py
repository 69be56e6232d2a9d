"""RedisStreamBroker that deletes acknowledged entries so the stream does not grow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from taskiq_redis import RedisStreamBroker

__all__ = ["DAMRedisStreamBroker"]


class DAMRedisStreamBroker(RedisStreamBroker):
    """Consumer-group stream broker; an acknowledgement is ``XACK`` + ``XDEL`` in one round trip.

    taskiq acknowledges after the result is stored (``AcknowledgeType.WHEN_SAVED``), so a
    worker that dies mid-call leaves the entry pending for another worker to claim after
    ``idle_timeout`` ms.
    """

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def _ack() -> None:
            async with Redis(connection_pool=self.connection_pool) as redis_conn:
                pipe = redis_conn.pipeline(transaction=True)
                pipe.xack(queue_name, self.consumer_group_name, id)
                pipe.xdel(queue_name, id)
                await pipe.execute()

        return _ack
