"""The directory links each queue's route to the queues its callers overflow to, without loops or inactive queues."""

import pytest

from calls.models import Queue
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
