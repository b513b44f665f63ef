"""The cross-process buses through broadcaster's public API: what one instance publishes, another
instance's subscriber receives, on PostgreSQL LISTEN/NOTIFY and on Redis pub/sub. (Kilas itself
notifies the PostgreSQL bus inside the writing transaction; a backend's `publish` must work for
anyone else who publishes through broadcaster.)"""

import asyncio
import contextlib

import pytest

from kilas.db.pool import connect
from kilas.live.bus import CHANNEL, EventBus
from tests._live_helpers import SHARED_BUSES


@pytest.mark.parametrize("bus_url", SHARED_BUSES)
async def test_what_one_instance_publishes_reaches_another_instances_subscriber(
    database_url: str, bus_url: str
) -> None:
    publisher, listener = EventBus(bus_url, database_url), EventBus(bus_url, database_url)
    await publisher.connect()
    await listener.connect()
    try:
        async with listener.subscribe() as subscriber:
            received = asyncio.ensure_future(subscriber.get())
            for _ in range(50):  # until the subscription is live on the server
                await publisher.broadcast.publish(CHANNEL, "41")
                await asyncio.wait([received], timeout=0.1)
                if received.done():
                    break
            event = await asyncio.wait_for(received, 5)
            assert (event.channel, event.message) == (CHANNEL, "41")
            # And the way Kilas's writes notify: in the transaction on PostgreSQL (delivered at
            # commit), after it on Redis.
            if publisher.kind == "postgres":
                conn = await connect(database_url)
                try:
                    async with conn.transaction():
                        await publisher.notify_in_transaction(conn, 42)
                finally:
                    await conn.close()
            else:
                await publisher.notify_committed(42)
            while (await asyncio.wait_for(subscriber.get(), 5)).message != "42":
                pass
    finally:
        with contextlib.suppress(Exception):
            await publisher.disconnect()
        await listener.disconnect()
