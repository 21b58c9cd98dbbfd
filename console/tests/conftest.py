import pytest

from calls.models import Queue


@pytest.fixture
def queue_a(company_a):
    return Queue.objects.create(company=company_a, name="Support", number="7000", service_level_seconds=20)


@pytest.fixture
def queue_b(company_b):
    return Queue.objects.create(company=company_b, name="Beta sales", number="8000")
