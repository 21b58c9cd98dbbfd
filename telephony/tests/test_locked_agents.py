"""An agent's row locked by another transaction (a long import, a stuck session) holds up that agent's call only.

The engine waits for the lock on that agent, but the other calls keep being claimed, connected and recorded, and a
caller who gives up while their agent is still locked leaves nobody stuck in CALLING.
"""

from __future__ import annotations

import contextlib

import pytest

from accounts.models import ActivityChange, User
from calls.models import Call
from telephony.fake_ari import Phone
from telephony.tests.support import (
    another_session,
    config_for,
    make_call_center,
    row_locked,
    running_telephony,
    wait_for_db,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def center():
    return make_call_center(extensions=["1001", "1002"], queue_number="5000", wrapup=0)


def state(extension: str) -> str:
    return User.objects.get(extension=extension).activity_state


async def test_a_locked_agent_holds_up_only_their_own_call(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("1002", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)):
        with row_locked("1001"):
            await fake.place_call(exten="1001", caller_number="01011112222")
            await fake.place_call(exten="1002", caller_number="01033334444")
            # The other agent's call is claimed, rung, answered and recorded while 1001's row stays locked.
            await wait_for_db(
                lambda: Call.objects.filter(agent__extension="1002", state="CONNECTED").exists(),
                what="the unlocked agent's call connected",
            )
            assert await wait_for_db(lambda: state("1002") == "ON_CALL", what="the unlocked agent on call")
        # Once the lock is gone, the first call goes on where it waited.
        await wait_for_db(lambda: state("1001") == "ON_CALL", what="the locked agent's call once unlocked")
        await wait_for_db(
            lambda: Call.objects.filter(agent__extension="1001", state="CONNECTED").exists(), what="first call"
        )


async def test_a_wrap_up_held_by_a_lock_does_not_hold_up_other_calls_records(fake, center, settings):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("1002", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)):
        first = await fake.place_call(exten="1001", caller_number="01011112222")
        await wait_for_db(lambda: state("1001") == "ON_CALL", what="first call answered")
        with row_locked("1001"):
            await first.hangup()  # ON_CALL → POST_PROCESSING of 1001 waits for the lock …
            second = await fake.place_call(exten="1002", caller_number="01033334444")
            await wait_for_db(lambda: state("1002") == "ON_CALL", what="another agent's call answered")
            await second.hangup()
            # … but the other call's end is recorded meanwhile.
            await wait_for_db(
                lambda: Call.objects.filter(agent__extension="1002", state="ENDED").exists(),
                what="the other call's end recorded",
            )
        ended = await wait_for_db(
            lambda: Call.objects.filter(agent__extension="1001", state="ENDED").first(), what="first call's end"
        )
        assert ended.disposition == "ANSWERED"
        await wait_for_db(lambda: state("1001") == "READY", what="the locked agent's wrap-up over")


async def test_a_caller_who_leaves_while_their_agent_is_locked_leaves_the_agent_ready(fake, center):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)) as service:
        with row_locked("1001"):
            call = await fake.place_call(exten="1001", caller_number="01011112222")
            await wait_for_db(lambda: Call.objects.exists(), what="the call recorded")
            await call.hangup()
            await wait_for_db(
                lambda: Call.objects.filter(state="ENDED").exists(), what="the call's end recorded while locked"
            )
        await wait_for_db(lambda: service.engine.claims.waiting == [], what="the claim settled")
        await wait_for_db(lambda: state("1001") == "READY" and not service.engine.workers, what="agent given back")
        record = await wait_for_db(lambda: Call.objects.get(), what="the record")
        assert record.disposition == "CANCELLED"
        originates = [r for r in fake.requests if r["method"] == "POST" and r["path"].endswith("/channels")]
        assert not originates, "the agent's phone never rang for a caller who had gone"


@contextlib.contextmanager
def audit_log_locked():
    """Another session keeps the audit log from taking rows until the block ends: a claim stalls mid-transaction."""
    with another_session() as other:
        other.execute("LOCK TABLE accounts_activitychange IN EXCLUSIVE MODE")
        yield


@pytest.mark.parametrize("number", ["1001", "5000"], ids=["direct call", "queue call"])
async def test_a_claim_that_commits_after_its_caller_left_gives_the_agent_back(fake, center, number):
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)):
        away = User.objects.filter(extension="1002")  # only 1001 can be claimed
        await wait_for_db(lambda: away.update(activity_state="AWAY"), what="1002 away")
        with audit_log_locked():
            call = await fake.place_call(exten=number, caller_number="01011112222")
            await wait_for_db(lambda: Call.objects.exists(), what="the call recorded")
            await call.hangup()
            await wait_for_db(lambda: Call.objects.filter(state="ENDED").exists(), what="the end recorded")
        # The claim went through once the table was free, for a call that had ended: the agent is given back.
        await wait_for_db(lambda: state("1001") == "READY" and ActivityChange.objects.count() == 2, what="given back")
        moves = await wait_for_db(
            lambda: list(ActivityChange.objects.order_by("id").values_list("from_state", "to_state", "note"))
        )
        assert moves == [("READY", "CALLING", f"call {call.channel_id}"),
                         ("CALLING", "READY", "caller left before ringing")]  # fmt: skip
        originates = [r for r in fake.requests if r["method"] == "POST" and r["path"].endswith("/channels")]
        assert not originates


async def test_a_claim_waiting_for_a_lock_is_asked_again_when_the_writer_commits(fake, center, monkeypatch):
    """The row's holder is most often the writer's own batch: its commit, not a timer, sends the claim again."""
    from telephony.engine import DirectClaims

    monkeypatch.setattr(DirectClaims, "RETRY_LOCKED_SECONDS", 600.0)  # the timer alone would come far too late
    fake.add_endpoint("1001", Phone.answer_after(ms=50))
    fake.add_endpoint("1002", Phone.answer_after(ms=50))
    async with running_telephony(config_for(fake)) as service:
        with row_locked("1001"):
            await fake.place_call(exten="1001", caller_number="01011112222")
            await wait_for_db(lambda: service.engine.claims.held, what="the claim waiting for the lock")
        await fake.place_call(exten="1002", caller_number="01033334444")  # its records make the writer commit
        await wait_for_db(lambda: state("1001") == "ON_CALL", what="the first call claimed after a commit")
