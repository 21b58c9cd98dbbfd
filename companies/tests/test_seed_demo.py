"""manage.py seed_demo: the demo company, its people and queue; passwords printed by the creating run only."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import Role, User
from calls.models import BusinessHours, ClosedDay, Queue
from companies.management.commands.seed_demo import AGENTS, COMPANY_NAME, MANAGER
from companies.models import Company


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_first_run_creates_everything_and_prints_each_sign_in(db):
    output = seed()

    company = Company.objects.get(name=COMPANY_NAME)
    assert company.phone == "02-555-0100"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM companies_company WHERE id = %s", [company.pk])
        assert "555" not in cursor.fetchone()[0]
    manager = User.objects.get(username=MANAGER[0])
    assert (manager.role, manager.company) == (Role.MANAGER, company)
    agents = User.objects.filter(company=company, role=Role.AGENT).order_by("extension")
    assert [agent.extension for agent in agents] == ["1000", "1001", "1002", "1003", "1004", "1005"]
    assert all(agent.sip_secret for agent in agents)
    queue = Queue.objects.get(number="5000")
    assert queue.company == company
    assert set(queue.members.all()) == set(agents)
    assert queue.business_hours is None  # the demo's calls flow at any hour
    hours = BusinessHours.objects.get(company=company)
    assert hours.monday == "09:00-12:00, 13:00-18:00" and hours.saturday == ""
    assert hours.closed_days.count() == 2
    assert company.pause_reasons.filter(code="LUNCH").exists()
    for username, *_names, password in [*AGENTS, MANAGER]:
        assert f"{username}" in output and password in output
        assert User.objects.get(username=username).check_password(password)
    assert User.objects.get(username="demo_admin").role == Role.SYSTEM_ADMIN


def test_a_second_run_creates_nothing_and_prints_no_password(db):
    seed()
    counts = (Company.objects.count(), User.objects.count(), Queue.objects.count(), ClosedDay.objects.count())

    output = seed()

    assert (Company.objects.count(), User.objects.count(), Queue.objects.count(), ClosedDay.objects.count()) == counts
    assert "exists already" in output
    assert all(password not in output for *_rest, password in [*AGENTS, MANAGER])


def test_a_deleted_agent_is_recreated_and_only_that_password_printed(db):
    seed()
    User.objects.filter(username="agent1003").delete()

    output = seed()

    assert "Hangang-river-1003" in output
    assert "Hangang-river-1002" not in output
    assert User.objects.get(username="agent1003").extension == "1003"


def test_an_extension_taken_by_someone_else_is_a_clear_error_and_nothing_is_created(make_user, company_a):
    make_user(company=company_a, username="someone", extension="1002")
    with pytest.raises(CommandError, match="Extension 1002 belongs to 'someone'"):
        seed()
    assert not Company.objects.filter(name=COMPANY_NAME).exists()


def test_demo_data_is_refused_under_production_settings(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="does not run in production"):
        seed()
    assert not User.objects.exists()
