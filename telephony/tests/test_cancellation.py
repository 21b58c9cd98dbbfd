"""A stopping server cancels the telephony task; the cancel must never be lost, whenever it lands.

Python 3.11's asyncio.wait_for returned the inner result when a cancel arrived just as the inner await finished, so
the service loop went on leading and shutdown waited forever (it hung CI once). These tests land cancels at every
step of a real lock check, and stop a running service many times at random moments.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from telephony.leader import LeaderLock
from telephony.service import TelephonyService
from telephony.tests.support import config_for, make_call_center, wait_for_db, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_cancel_landing_at_any_step_of_the_lock_check_is_never_swallowed():
    lock = LeaderLock("cancel-probe", retry_seconds=0.05)
    await lock.acquire()
    try:
        outcomes = set()
        for steps in range(60):
            check = asyncio.create_task(lock.still_held())
            for _ in range(steps):
                await asyncio.sleep(0)
            finished_before_cancel = check.done()
            check.cancel()
            try:
                held = await check
            except asyncio.CancelledError:
                outcomes.add("cancelled")
                continue
            assert finished_before_cancel, f"the lock check swallowed a cancel sent after {steps} loop steps"
            assert held is True
            outcomes.add("finished")
            if lock._connection is None or lock._connection.closed:
                await lock.acquire()  # a cancel mid-query leaves the connection unusable: start afresh
        assert outcomes == {"cancelled", "finished"}, "the sweep should cover cancels before and after the query"
    finally:
        await lock.release()


async def test_the_service_stops_promptly_whenever_it_is_cancelled(fake):
    await wait_for_db(lambda: make_call_center(extensions=["1001"]))
    rng = random.Random(11)
    for _ in range(15):
        service = TelephonyService(config_for(fake), lock_retry_seconds=0.05, heartbeat=0.01)
        task = asyncio.create_task(service.run())
        await wait_until(service.is_leader.is_set, 10, what="leading")
        await asyncio.sleep(rng.uniform(0, 0.1))  # the lock is checked every 10 ms: land anywhere in that cycle
        task.cancel()
        async with asyncio.timeout(15):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert task.done() and not service.is_leader.is_set()
