"""Live-console messages from the telephony engine's database threads: handed to the server's event loop, each
distinct message of a burst sent once, in order, over the real channel layer."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.layers import get_channel_layer

from pbx.live_push import bind_event_loop, send_to_groups


async def test_a_burst_from_a_database_thread_reaches_the_groups_once_per_distinct_message():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("company.7.agents", channel)
    loop = asyncio.get_running_loop()

    def committed_batch():
        bind_event_loop(loop)
        for message in [{"type": "call.changed", "call_id": 1}, {"type": "agent.changed", "agent_id": 5},
                        {"type": "call.changed", "call_id": 1}, {"type": "call.changed", "call_id": 2}]:  # fmt: skip
            send_to_groups(["company.7.agents"], message)

    thread = threading.Thread(target=committed_batch)
    thread.start()
    await asyncio.to_thread(thread.join)

    received = []
    async with asyncio.timeout(5):
        while len(received) < 3:
            received.append(await layer.receive(channel))
    assert [(m["type"], m.get("call_id"), m.get("agent_id")) for m in received] == [
        ("call.changed", 1, None), ("agent.changed", None, 5), ("call.changed", 2, None)
    ]  # fmt: skip
    assert len({m["event_id"] for m in received}) == 3, "each message its own id"
    with pytest.raises(TimeoutError):  # the repeated message was not sent again
        async with asyncio.timeout(0.2):
            await layer.receive(channel)
