"""What must hold when things go wrong: many calls at once, a lost socket, a restarted Asterisk, a database that goes
away for a moment, garbage on the socket, a second process. Real sockets to the fake Asterisk, real PostgreSQL."""

from __future__ import annotations

import asyncio
import random

import pytest
from django.db import connection as test_connection

from accounts.models import ActivityChange, User
from calls.models import Call, Offer
from telephony.fake_ari import FakeAsterisk, Phone
from telephony.service import TelephonyService
from telephony.tests.support import (
    config_for,
    make_call_center,
    overflow_to_backup,
    running_telephony,
    wait_for_db,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)


def ended_count() -> int:
    return Call.objects.filter(state="ENDED").count()


def bridged_with_agent(fake, call) -> bool:
    return any(call.channel_id in bridge.channels and len(bridge.channels) == 2 for bridge in fake.bridges.values())


async def talk_then_hang_up(fake, call, seconds: float) -> None:
    await wait_until(lambda: bridged_with_agent(fake, call), 60, what="an agent to answer")
    await asyncio.sleep(seconds)
    if not call.ended.is_set():
        await call.hangup()


def assert_no_agent_ever_held_two_calls() -> None:
    """Per agent, each offer starts only after the previous one (and its call, if answered) was over."""
    for agent in User.objects.filter(role="AGENT"):
        spans = []
        for offer in Offer.objects.filter(agent=agent).select_related("call").order_by("offered_at"):
            end = offer.call.ended_at if offer.answered_at else offer.ended_at
            assert end is not None, f"offer {offer.channel_id} never ended"
            spans.append((offer.offered_at, end))
        for (_start, end), (next_start, _next_end) in zip(spans, spans[1:], strict=False):
            assert next_start >= end, f"agent {agent.extension} was offered a call while on another"
        claims = ActivityChange.objects.filter(agent=agent, to_state="CALLING")
        assert all(change.from_state == "READY" for change in claims)
        assert claims.count() == len(spans), f"agent {agent.extension}: every offer follows exactly one claim"


async def test_fifty_simultaneous_queue_calls_against_twenty_agents(fake):
    extensions = [str(1100 + n) for n in range(20)]
    await wait_for_db(lambda: make_call_center(extensions=extensions, queue_number="5000", wrapup=0, ring_timeout=5))
    rng = random.Random(7)
    for extension in extensions:
        fake.add_endpoint(extension, Phone.answer_after(ms=rng.randint(20, 200)))
    async with running_telephony(config_for(fake)):
        calls = await asyncio.gather(
            *(fake.place_call(exten="5000", caller_number=f"0101234{n:04d}") for n in range(50))
        )
        await asyncio.gather(*(talk_then_hang_up(fake, call, rng.uniform(0.05, 0.3)) for call in calls))
        await wait_for_db(lambda: ended_count() == 50, 60, what="all 50 calls recorded")
    records = await wait_for_db(lambda: list(Call.objects.values_list("disposition", flat=True)))
    assert records.count("ANSWERED") == 50
    await wait_for_db(lambda: assert_no_agent_ever_held_two_calls() or True)


async def test_socket_dropped_mid_call_and_restored_the_call_ends_normally_once(fake):
    await wait_for_db(lambda: make_call_center(extensions=["1001"]))
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)) as service:
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists())
        reconciles = service.engine.stats.counters["reconciles"]
        await fake.drop_websockets()
        await wait_until(lambda: service.engine.stats.counters["reconciles"] > reconciles, 10, what="reconnect")
        await call.hangup()
        record = await wait_for_db(lambda: Call.objects.filter(state="ENDED").first())
        assert record.disposition == "ANSWERED" and not record.reconciled
        assert await wait_for_db(lambda: [Call.objects.count()]) == [1]


async def test_call_that_ends_while_the_socket_is_down_is_closed_by_reconciliation(fake):
    await wait_for_db(lambda: make_call_center(extensions=["1001"], wrapup=0))
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists())
        await fake.drop_websockets()
        await call.hangup()  # its events are dropped: nobody is listening
        record = await wait_for_db(lambda: Call.objects.filter(state="ENDED").first(), 15)
        assert record.reconciled and record.disposition == "ANSWERED"
        assert await wait_for_db(lambda: User.objects.get(extension="1001").activity_state == "READY")
        assert not fake.channels, "the agent's leg was hung up"


async def test_asterisk_restart_closes_every_call_and_frees_the_agents(fake):
    await wait_for_db(lambda: make_call_center(extensions=["1001", "1002"], queue_number="5000", wrapup=0))
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("1002", Phone.never_answer())
    await wait_for_db(lambda: User.objects.filter(extension="1002").update(activity_changed_at="2026-11-25T08:00Z"))
    async with running_telephony(config_for(fake)):
        await fake.place_call(exten="1001", caller_number="0212345678")
        await fake.place_call(exten="5000", caller_number="0212345679")
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").count() == 1, what="direct call talking")
        await wait_for_db(lambda: User.objects.filter(extension="1002", activity_state="CALLING").exists())
        await fake.restart()
        await wait_for_db(lambda: ended_count() == 2, 20, what="both calls closed")
        assert await wait_for_db(
            lambda: set(User.objects.values_list("activity_state", flat=True)) == {"READY"}, 10, what="agents free"
        )
        records = await wait_for_db(lambda: list(Call.objects.order_by("dialed_number")))
        assert [(r.dialed_number, r.disposition, r.reconciled) for r in records] == [
            ("1001", "ANSWERED", True),
            ("5000", "ABANDONED", True),
        ]


async def test_agents_left_ringing_or_talking_for_no_call_are_freed_on_connect(fake):
    from datetime import timedelta

    from django.utils import timezone

    await wait_for_db(lambda: make_call_center(extensions=["1001", "1002", "1003"], queue_number="5000", wrapup=1))
    long_ago = timezone.now() - timedelta(minutes=30)

    def strand():
        # As a lost call end left them (the bug fixed in core._timer's max wait): nothing in progress is theirs.
        User.objects.filter(extension="1001").update(activity_state="CALLING", activity_changed_at=long_ago)
        User.objects.filter(extension="1002").update(activity_state="ON_CALL", activity_changed_at=long_ago)
        # A claim a moment old may be a call being set up: it is left alone.
        User.objects.filter(extension="1003").update(activity_state="CALLING", activity_changed_at=timezone.now())
        return True

    await wait_for_db(strand)
    async with running_telephony(config_for(fake)) as service:
        states = lambda: dict(User.objects.filter(extension__isnull=False).values_list("extension", "activity_state"))  # noqa: E731
        assert await wait_for_db(lambda: states() == {"1001": "READY", "1002": "READY", "1003": "CALLING"}, 10)
        assert service.engine.stats.counters["agents_freed_stranded"] == 2


@pytest.fixture
def test_session_pid() -> int:
    """The test runner's own database session (it must survive to clean up after the test)."""
    with test_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _cut_database_connections(spare: int) -> int:
    """Kill the product's sessions on the test database, as a PostgreSQL restart or network cut would."""
    with test_connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
            [spare],
        )
        return cursor.fetchone()[0]


async def test_database_connections_lost_under_traffic_lose_no_call(fake, test_session_pid):
    extensions = [str(1200 + n) for n in range(5)]
    await wait_for_db(lambda: make_call_center(extensions=extensions, wrapup=0))
    for extension in extensions:
        fake.add_endpoint(extension, Phone.answer_then_hangup(answer_ms=30, talk_ms=100))
    async with running_telephony(config_for(fake)) as service:
        placed = []
        for round_ in range(6):
            placed += await asyncio.gather(
                *(fake.place_call(exten=ext, caller_number=f"02{round_}{ext}") for ext in extensions)
            )
            if round_ in (1, 3):
                killed = await wait_for_db(lambda: _cut_database_connections(test_session_pid))
                assert killed >= 1
            await asyncio.sleep(0.3)
        await wait_for_db(lambda: ended_count() == 30, 60, what="every call recorded")
        assert service.engine.stats.counters["writes_dropped"] == 0
    dispositions = await wait_for_db(lambda: list(Call.objects.values_list("disposition", flat=True)))
    assert len(dispositions) == 30 and set(dispositions) <= {"ANSWERED", "BUSY"}


async def test_garbage_on_the_socket_is_skipped_and_calls_still_work(fake):
    await wait_for_db(lambda: make_call_center(extensions=["1001"]))
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)) as service:
        for frame in ["not json", "[1, 2]", '{"no_type": 1}', '{"type": "NoSuchEvent"}', '{"type": 5}',
                      '{"type": "StasisEnd", "channel": {"id": "unknown.1"}}',
                      '{"type": "ChannelDestroyed", "channel": "not an object"}',
                      '{"type": "EndpointStateChange", "endpoint": {}}']:  # fmt: skip
            await fake.send_raw(frame)
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists())
        await call.hangup()
        assert await wait_for_db(lambda: Call.objects.filter(state="ENDED", disposition="ANSWERED").exists())
        assert service.engine.stats.counters["events_malformed"] >= 4


async def test_a_second_process_stays_standby_and_takes_over_when_the_leader_dies(fake):
    await wait_for_db(lambda: make_call_center(extensions=["1001"], wrapup=0))
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    config = config_for(fake)
    leader = TelephonyService(config, lock_retry_seconds=0.2, heartbeat=0.5)
    leader_task = asyncio.create_task(leader.run())
    await wait_until(leader.is_leader.is_set, 10, what="first service leads")
    standby = TelephonyService(config, lock_retry_seconds=0.2, heartbeat=0.5)
    standby_task = asyncio.create_task(standby.run())
    try:
        await wait_until(lambda: leader.engine.stats.counters["reconciles"] >= 1, 10)
        call = await fake.place_call(exten="1001", caller_number="0212345678")
        await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists())
        assert not standby.is_leader.is_set() and standby.engine is None
        leader_task.cancel()  # the leader goes away mid-call
        await asyncio.gather(leader_task, return_exceptions=True)
        await wait_until(standby.is_leader.is_set, 10, what="standby takes over")
        await wait_until(lambda: standby.engine.stats.counters["reconciles"] >= 1, 10)
        await call.hangup()
        record = await wait_for_db(lambda: Call.objects.filter(state="ENDED").first(), 10)
        assert record.disposition == "ANSWERED" and not record.reconciled
        assert await wait_for_db(lambda: [Call.objects.count()]) == [1]
    finally:
        for task in (leader_task, standby_task):
            task.cancel()
        await asyncio.gather(leader_task, standby_task, return_exceptions=True)


async def test_a_caller_waiting_when_the_process_restarts_keeps_the_queues_max_wait(fake):
    """The new leader rebuilds the waiting call from its record: its maximum wait still runs out (it used to wait
    with no deadline), counted from when it called, and the caller moves on to the overflow queue."""

    def center():
        _company, _agents, queue = make_call_center(extensions=["1001", "1002"], queue_number="5000", wrapup=0)
        backup = overflow_to_backup(queue, number="5001", taken_by="1002", absent="1001", max_wait_seconds=3)
        User.objects.filter(extension="1002").update(activity_state="TRAINING")  # nobody until after the restart
        return backup

    backup = await wait_for_db(center)
    fake.add_endpoint("1002", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)):
        call = await fake.place_call(exten="5000", caller_number="0212345678")
        await wait_for_db(lambda: Call.objects.filter(state="WAITING").exists())
    # The process is gone for a moment; its timer went with it.
    await wait_for_db(lambda: User.objects.filter(extension="1002").update(activity_state="READY"))
    async with running_telephony(config_for(fake)):
        await wait_until(lambda: bridged_with_agent(fake, call), 10, what="the backup queue's agent to answer")
        await call.hangup()
        record = await wait_for_db(lambda: Call.objects.filter(state="ENDED").select_related("agent").first(), 10)
        assert (record.disposition, record.queue_id, record.agent.extension) == ("ANSWERED", backup.pk, "1002")


def test_backoff_retries_within_a_second_first_and_never_waits_over_thirty():
    from telephony.connection import Backoff

    backoff = Backoff()
    delays = [backoff.next_delay() for _ in range(12)]
    assert delays[0] <= 1.0
    assert max(delays) <= 30.0 and delays[-1] >= 15.0
    backoff.reset()
    assert backoff.next_delay() <= 1.0


async def test_asterisk_down_for_a_while_is_logged_once_and_reconnected_when_back(caplog):
    import logging

    await wait_for_db(lambda: make_call_center(extensions=["1001"]))
    first = FakeAsterisk(user="pbx", password="secret")
    port = await first.start(host="127.0.0.1", port=0)
    first.add_endpoint("1001", Phone.answer_after(ms=50))
    async with running_telephony(config_for(first)) as service:
        await first.stop()  # Asterisk goes away
        caplog.set_level(logging.WARNING, logger="telephony.connection")
        await asyncio.sleep(3)  # several retries happen meanwhile
        second = FakeAsterisk(user="pbx", password="secret")
        await second.start(host="127.0.0.1", port=port)
        second.add_endpoint("1001", Phone.answer_after(ms=50))
        try:
            reconciles = service.engine.stats.counters["reconciles"]
            await wait_until(lambda: service.engine.stats.counters["reconciles"] > reconciles, 15, what="back")
            call = await second.place_call(exten="1001", caller_number="0212345678")
            await wait_for_db(lambda: Call.objects.filter(state="CONNECTED").exists())
            await call.hangup()
        finally:
            await second.stop()
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1, [r.getMessage() for r in unreachable]


async def test_another_client_taking_the_app_does_not_start_a_reconnect_storm(fake):
    import aiohttp

    await wait_for_db(lambda: make_call_center(extensions=["1001"]))
    async with running_telephony(config_for(fake)) as service, aiohttp.ClientSession() as session:
        intruder = await session.ws_connect(
            fake.base_url.replace("http", "ws") + "/ari/events?app=pbx_ari&api_key=pbx:secret"
        )
        await wait_until(lambda: service.connection.state == "DISCONNECTED", 5, what="we were replaced")
        await asyncio.sleep(2)
        assert service.connection.state == "DISCONNECTED"  # waiting, not fighting back
        assert not intruder.closed
        await intruder.close()


async def test_the_leader_forgets_processes_that_stopped_reporting_a_day_ago(fake):
    from datetime import timedelta

    from django.utils import timezone

    from telephony.models import TelephonyNode

    def old_and_recent_nodes():
        TelephonyNode.objects.create(name="gone:1", heartbeat_at=timezone.now() - timedelta(days=2))
        TelephonyNode.objects.create(name="recent:2", heartbeat_at=timezone.now() - timedelta(hours=2))
        return True

    await wait_for_db(old_and_recent_nodes)
    async with running_telephony(config_for(fake)):
        names = await wait_for_db(
            lambda: (n := set(TelephonyNode.objects.values_list("name", flat=True))) and "gone:1" not in n and n,
            what="the old row pruned",
        )
    assert "recent:2" in names and len(names) == 2, names
