"""The matcher's round: every waiting queue call asks for an agent at once, longest-waiting caller first, each given
the longest-idle READY agent of its queue that no call before it took."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ActivityChange, User
from calls.models import Queue
from telephony import directory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agents(company_a, make_user):
    start = timezone.now() - timedelta(hours=1)
    made = [make_user(company=company_a, extension=f"30{n}") for n in range(4)]
    for n, agent in enumerate(made):  # 300 has been idle longest
        User.objects.filter(pk=agent.pk).update(activity_changed_at=start + timedelta(minutes=n), endpoint_online=True)
    return made


def claimed_extensions(claims: dict) -> dict[str, str]:
    return {key: claim.endpoint.rsplit("/", 1)[-1] for key, claim in claims.items()}


def test_the_longest_waiting_call_gets_the_longest_idle_agent_and_each_agent_goes_once(company_a, agents):
    queue = Queue.objects.create(company=company_a, name="Support", number="5300")
    claims = directory.claim_for_queues(waiting=[("first", queue.pk), ("second", queue.pk)]).claims
    assert claimed_extensions(claims) == {"first": "300", "second": "301"}
    states = dict(User.objects.filter(pk__in=[a.pk for a in agents]).values_list("extension", "activity_state"))
    assert states == {"300": "CALLING", "301": "CALLING", "302": "READY", "303": "READY"}
    assert set(ActivityChange.objects.filter(to_state="CALLING").values_list("note", flat=True)) == {
        "call first",
        "call second",
    }


def test_queues_sharing_agents_serve_callers_in_the_order_they_called(company_a, agents):
    sales = Queue.objects.create(company=company_a, name="Sales", number="5301")
    sales.members.set(agents[:2])
    support = Queue.objects.create(company=company_a, name="Support", number="5302")  # everyone
    waiting = [("support-1", support.pk), ("sales-1", sales.pk), ("sales-2", sales.pk), ("support-2", support.pk)]
    claims = directory.claim_for_queues(waiting=waiting).claims
    # The support caller came first and takes 300; the sales callers get what is left of sales' two; the last
    # support caller the longest idle of the rest.
    assert claimed_extensions(claims) == {"support-1": "300", "sales-1": "301", "support-2": "302"}


def test_agents_not_ready_offline_or_without_a_phone_are_never_claimed(company_a, agents):
    queue = Queue.objects.create(company=company_a, name="Support", number="5300")
    User.objects.filter(pk=agents[0].pk).update(activity_state="AWAY")
    User.objects.filter(pk=agents[1].pk).update(endpoint_online=False)
    User.objects.filter(pk=agents[2].pk).update(extension=None)
    claims = directory.claim_for_queues(waiting=[("a", queue.pk), ("b", queue.pk)]).claims
    assert claimed_extensions(claims) == {"a": "303"}


def test_an_inactive_or_deleted_queue_claims_no_one(company_a, agents):
    queue = Queue.objects.create(company=company_a, name="Support", number="5300", is_active=False)
    assert directory.claim_for_queues(waiting=[("a", queue.pk), ("b", 987654)]).claims == {}
    assert not User.objects.filter(activity_state="CALLING").exists()


@pytest.mark.django_db(transaction=True)  # outside a transaction, as the engine claims: one statement
def test_a_round_costs_the_same_statements_for_one_call_as_for_many(company_a, agents, django_assert_max_num_queries):
    queue = Queue.objects.create(company=company_a, name="Support", number="5300")
    with django_assert_max_num_queries(4):  # the queues, their members, the candidates, the claim
        claims = directory.claim_for_queues(waiting=[(f"call-{n}", queue.pk) for n in range(40)]).claims
    assert len(claims) == 4


def test_a_queue_nobody_works_is_named_when_it_sends_its_callers_on_then(company_a, agents):
    backup = Queue.objects.create(company=company_a, name="Backup", number="5399")
    queue = Queue.objects.create(company=company_a, name="Night", number="5300", overflow_queue=backup,
                                 overflow_when_unstaffed=True)  # fmt: skip
    queue.members.set(agents[:2])
    User.objects.filter(pk__in=[a.pk for a in agents[:2]]).update(activity_state="AWAY")
    assert directory.claim_for_queues(waiting=[("a", queue.pk)]).unstaffed == {queue.pk}
    User.objects.filter(pk=agents[0].pk).update(activity_state="ON_CALL")  # busy, but working: callers wait
    assert directory.claim_for_queues(waiting=[("a", queue.pk)]).unstaffed == set()
    User.objects.filter(pk=agents[0].pk).update(activity_state="TRAINING")
    Queue.objects.filter(pk=queue.pk).update(overflow_when_unstaffed=False)  # waits for the maximum wait instead
    assert directory.claim_for_queues(waiting=[("a", queue.pk)]).unstaffed == set()
