"""A broadcaster backend on redis.asyncio pub/sub that survives a lost connection.

broadcaster's stock Redis backend delivered nothing with redis-py 8 and never reconnects."""

import asyncio
import logging
from typing import Any

import redis.asyncio as redis
from broadcaster import BroadcastBackend, Event

from kilas.live._resync import RESYNC

log = logging.getLogger("kilas.live")


class RedisPubSubBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._url = url
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        # For /ready and the metrics: whether the subscription holds now, and how often it was
        # re-made.
        self.connected = False
        self.reconnects = 0

    async def connect(self) -> None:
        self._client = redis.from_url(self._url)
        await self._client.ping()
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._reader = asyncio.create_task(self._read(), name="kilas-redis-reader")
        self.connected = True

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self._pubsub.aclose()
        await self._client.aclose()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._client.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _read(self) -> None:
        while True:
            try:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
                if message is not None and message["type"] == "message":
                    data = message["data"]
                    text = data.decode() if isinstance(data, bytes) else str(data)
                    channel = message["channel"]
                    name = channel.decode() if isinstance(channel, bytes) else str(channel)
                    self._queue.put_nowait(Event(channel=name, message=text))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("redis bus connection lost (%s); reconnecting", exc)
                self.connected = False
                await self._reconnect()
                self.connected = True
                self.reconnects += 1

    async def _reconnect(self) -> None:
        # Until a resubscription works: a failed one leaves a pubsub subscribed to nothing,
        # which the read loop above would otherwise wait on for ever.
        delay = 0.1
        while True:
            await asyncio.sleep(delay)
            if await self._resubscribe():
                return
            delay = min(delay * 2, 5.0)
            log.warning("redis bus still unreachable; retrying in %.1fs", delay)

    async def _resubscribe(self) -> bool:
        try:
            await self._pubsub.aclose()
            self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            if self._channels:
                await self._pubsub.subscribe(*self._channels)
        except Exception as exc:
            log.warning("redis bus resubscribe failed: %s", exc)
            return False
        # Whatever was published while we were away is in the event log: ask for a re-read.
        for channel in self._channels:
            self._queue.put_nowait(Event(channel=channel, message=RESYNC))
        return True
