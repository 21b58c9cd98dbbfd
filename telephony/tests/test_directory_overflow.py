"""The directory links each queue's route to the queues its callers overflow to, without loops or inactive queues."""

from datetime import timedelta

import pytest

from calls.models import Call, Queue
from companies.services import company_create
from telephony import directory

pytestmark = pytest.mark.django_db


def chain(route) -> list[int]:
    hops = []
    while route.overflow is not None:
        route = route.overflow
        hops.append(route.queue_id)
    return hops


@pytest.fixture
def queues():
    company = company_create(name="Overflow Contact")
    return {n: Queue.objects.create(company=company, name=f"Q{n}", number=str(n)) for n in range(5100, 5105)}


def link(queues, source, target):
    Queue.objects.filter(pk=queues[source].pk).update(overflow_queue=queues[target])


def test_a_loop_stops_before_a_queue_comes_again(queues):
    link(queues, 5100, 5101)
    link(queues, 5101, 5100)
    routes = directory.routes_all()
    assert chain(routes["5100"]) == [queues[5101].pk]
    assert chain(routes["5101"]) == [queues[5100].pk]


def test_a_chain_is_cut_after_the_last_hop_and_at_an_inactive_queue(queues):
    for source, target in ((5100, 5101), (5101, 5102), (5102, 5103), (5103, 5104)):
        link(queues, source, target)
    routes = directory.routes_all()
    assert chain(routes["5100"]) == [queues[n].pk for n in (5101, 5102, 5103)]  # MAX_OVERFLOW_HOPS
    Queue.objects.filter(pk=queues[5102].pk).update(is_active=False)
    assert chain(directory.routes_all()["5100"]) == [queues[5101].pk]


def test_one_number_looked_up_alone_has_its_whole_chain(queues, django_assert_max_num_queries):
    link(queues, 5100, 5101)
    link(queues, 5101, 5102)
    with django_assert_max_num_queries(6):
        route = directory.route_for_exten("5100")
    assert chain(route) == [queues[5101].pk, queues[5102].pk]
    assert route.overflow.max_wait == queues[5101].max_wait_seconds


def waiting_call(queue, key: str, **fields) -> Call:
    return Call.objects.create(company=queue.company, queue=queue, caller_channel_id=key, state="WAITING",
                               dialed_number=queue.number, **fields)  # fmt: skip


def test_calls_rebuilt_after_a_restart_keep_their_line_deadline_and_where_they_may_still_go(
    queues, django_assert_max_num_queries
):
    link(queues, 5100, 5101)
    link(queues, 5101, 5100)
    first = waiting_call(queues[5100], "in-first")
    for n in range(5):
        waiting_call(queues[5100], f"also-in-first-{n}")
    moved = waiting_call(queues[5101], "moved-on", overflowed_from=queues[5100])
    with django_assert_max_num_queries(16):  # the linked route read once per queue, not once per call
        sessions = {session.key: session for session in directory.calls_in_progress()}
    rebuilt = sessions["in-first"]
    assert (rebuilt.phase, rebuilt.waiting_since, rebuilt.overflowed_from) == ("WAITING", first.enqueued_at, None)
    assert rebuilt.max_wait_until == first.enqueued_at + timedelta(seconds=queues[5100].max_wait_seconds)
    assert chain(rebuilt.route) == [queues[5101].pk]
    # Moved on from 5100 already: 5101's own overflow goes back there, so it goes nowhere.
    assert sessions["moved-on"].overflowed_from == queues[5100].pk and chain(sessions["moved-on"].route) == []
    assert sessions["moved-on"].waiting_since == moved.enqueued_at
