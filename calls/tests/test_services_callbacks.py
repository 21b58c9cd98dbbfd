"""callback_request records an outbound call linked to the missed one and, on commit, asks the telephony task to
place it through the channel layer group `telephony`."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import translation

from calls.models import Call, CallState, Direction, Disposition
from calls.services_callbacks import CallbackRefused, callback_request

pytestmark = pytest.mark.django_db(transaction=True)


def missed(company, *, caller="010-3333-4444"):
    return Call.objects.create(
        company=company, caller_number=caller, caller_channel_id=f"missed-{caller}", state=CallState.ENDED,
        disposition=Disposition.ABANDONED,
    )  # fmt: skip


def test_callback_is_recorded_and_the_telephony_group_is_told_after_commit(company_a, agent_a, manager_a):
    layer = get_channel_layer()
    listener = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("telephony", listener)
    original = missed(company_a)

    call = callback_request(missed_call=original, agent=agent_a, requested_by=manager_a)

    message = async_to_sync(layer.receive)(listener)
    assert message == {"type": "callback.place", "call_id": call.pk}
    call.refresh_from_db()
    assert (call.direction, call.state, call.callback_of, call.agent) == (
        Direction.OUTBOUND, CallState.WAITING, original, agent_a,
    )  # fmt: skip
    assert call.caller_number == "010-3333-4444" and call.caller_channel_id.startswith("callback-")


def test_a_second_callback_while_one_is_in_progress_is_refused(company_a, agent_a, manager_a):
    original = missed(company_a)
    callback_request(missed_call=original, agent=agent_a, requested_by=manager_a)
    with pytest.raises(CallbackRefused):
        callback_request(missed_call=original, agent=agent_a, requested_by=manager_a)
    assert Call.objects.filter(callback_of=original).count() == 1


def test_agent_of_another_company_cannot_be_rung_for_a_callback(company_a, agent_b, manager_a):
    with pytest.raises(CallbackRefused):
        callback_request(missed_call=missed(company_a), agent=agent_b, requested_by=manager_a)


def test_agent_cannot_make_a_colleague_call_back(company_a, agent_a, make_user):
    colleague = make_user(company=company_a, extension="1009")
    with pytest.raises(CallbackRefused):
        callback_request(missed_call=missed(company_a), agent=colleague, requested_by=agent_a)


@pytest.mark.parametrize(
    ("agent_now", "refusal"),
    [
        (
            {"activity_state": "AWAY"},
            "agent_a is Away now. A callback rings the agent first: choose an agent who is",
        ),
        ({"activity_state": "ON_CALL"}, "agent_a is On call now."),
        ({"endpoint_online": False}, "agent_a's phone is not registered, so it cannot ring."),
    ],
)
def test_a_callback_through_an_agent_who_cannot_take_a_call_now_is_refused_with_the_reason(
    company_a, agent_a, manager_a, agent_now, refusal
):
    """Not reported as started and then ended at once as busy (QA: the agent was Away)."""
    from accounts.models import User

    User.objects.filter(pk=agent_a.pk).update(**agent_now)
    original = missed(company_a)
    with translation.override("en"), pytest.raises(CallbackRefused) as refused:
        callback_request(missed_call=original, agent=agent_a, requested_by=manager_a)
    assert str(refused.value).startswith(refusal)
    assert not Call.objects.filter(callback_of=original).exists()
