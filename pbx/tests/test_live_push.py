"""Live-console messages from the telephony engine's database threads: handed to the server's event loop, each
distinct message of a burst sent once, in order, over the real channel layer."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.layers import get_channel_layer

from pbx.live_push import send_to_groups
from telephony.database import Database


async def test_a_burst_from_a_database_thread_reaches_the_groups_once_per_distinct_message():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("company.7.agents", channel)

    def committed_batch():  # a records batch's pushes, sent on commit from an engine database thread
        for message in [{"type": "call.changed", "call_id": 1}, {"type": "agent.changed", "agent_id": 5},
                        {"type": "call.changed", "call_id": 1}, {"type": "call.changed", "call_id": 2}]:  # fmt: skip
            send_to_groups(["company.7.agents"], message)
            time.sleep(0.01)  # the loop is free meanwhile: it must not send half the burst (it did, now and then)

    database = Database(threads=1)
    try:
        await database.run(committed_batch)
    finally:
        await database.close()

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


async def test_a_database_job_that_fails_after_a_commit_still_sends_what_it_sent():
    """The pushes of a job go out when it ends, however it ends: what they tell of was committed."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("company.8.agents", channel)

    def committed_then_failed():
        send_to_groups(["company.8.agents"], {"type": "agent.changed", "agent_id": 9})
        raise ValueError("a later step of the job failed")

    database = Database(threads=1)
    try:
        with pytest.raises(ValueError):
            await database.run(committed_then_failed)
    finally:
        await database.close()
    async with asyncio.timeout(5):
        message = await layer.receive(channel)
    assert (message["type"], message["agent_id"]) == ("agent.changed", 9)
