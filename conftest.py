"""Shared fixtures: two companies with a user of each role, so every test can ask "mine" and "the other one"."""

import pytest
from django.core.cache import cache

from accounts.models import Role
from accounts.services import user_create
from companies.services import company_create

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Still peppered Argon2id, with less memory per hash so hundreds of test users stay quick.
    settings.ARGON2_MEMORY_KIB = 1024
    settings.TELEPHONY_ENABLED = False
    cache.clear()  # rate-limit counters live in the cache
    yield
    cache.clear()


@pytest.fixture
def make_user(db):
    counter = iter(range(10_000))

    def make(*, role=Role.AGENT, company=None, username=None, extension=None, **fields):
        n = next(counter)
        return user_create(
            username=username or f"{role.lower()}{n}",
            password=PASSWORD,
            role=role,
            company=company,
            extension=extension,
            validate=False,
            **fields,
        )

    return make


@pytest.fixture
def company_a(db):
    return company_create(name="Alpha Contact", phone="02-1234-5678", business_number="123-45-67890")


@pytest.fixture
def company_b(db):
    return company_create(name="Beta Support", phone="031-987-6543", business_number="987-65-43210")


@pytest.fixture
def admin_user(make_user):
    return make_user(role=Role.SYSTEM_ADMIN, username="root")


@pytest.fixture
def manager_a(make_user, company_a):
    return make_user(role=Role.MANAGER, company=company_a, username="manager_a")


@pytest.fixture
def agent_a(make_user, company_a):
    return make_user(role=Role.AGENT, company=company_a, username="agent_a", extension="1000")


@pytest.fixture
def manager_b(make_user, company_b):
    return make_user(role=Role.MANAGER, company=company_b, username="manager_b")


@pytest.fixture
def agent_b(make_user, company_b):
    return make_user(role=Role.AGENT, company=company_b, username="agent_b", extension="2000")
