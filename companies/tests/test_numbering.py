"""One dialplan serves every company: extensions, queue numbers and extension ranges may not collide, whichever way
they are given out (API, console forms, commands)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from accounts.models import Role, User
from accounts.states import ActivityState
from api.services import token_issue
from api.tests.conftest import JsonClient, error_code
from calls.forms import QueueForm
from calls.models import Queue
from companies.forms import CompanyForm
from companies.models import Company, PauseReason
from companies.services import company_create, company_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages checked below in English (the API answers in its request's language, checked by numbers only)."""
    with translation.override("en"):
        yield


@pytest.fixture
def api_as():
    return lambda user: JsonClient(token_issue(user=user).token)


@pytest.fixture
def ranges(make_user):
    alpha = company_create(name="Alpha", extension_start="1000", extension_end="1099")
    beta = company_create(name="Beta", extension_start="2000", extension_end="2099")
    Queue.objects.create(company=alpha, name="Support", number="5000")
    agent = make_user(company=alpha, username="kim", extension="1001")
    admin = make_user(role=Role.SYSTEM_ADMIN, username="root")
    manager = make_user(role=Role.MANAGER, company=alpha, username="boss")
    return alpha, beta, agent, admin, manager


def _api_user(api_as, actor, **body):
    return api_as(actor).post("users", {"password": "Sup3r-long-pass!", "role": "AGENT", **body})


@pytest.mark.parametrize(
    ("extension", "says"),
    [
        ("9999", "1000"),  # outside the company's range 1000-1099
        ("5000", None),  # the company's own queue
        ("2001", None),  # in Beta's range: outside Alpha's
    ],
)
def test_the_api_gives_an_agent_only_an_extension_of_their_companys_range(ranges, api_as, extension, says):
    _alpha, _beta, _agent, _admin, manager = ranges
    response = _api_user(api_as, manager, username="new_agent", extension=extension)
    assert response.status_code == 422, response.content
    assert "extension" in response.json()["error"]["fields"]
    if says:
        assert says in " ".join(response.json()["error"]["fields"]["extension"])
    assert not User.objects.filter(username="new_agent").exists()


def test_a_company_without_a_range_cannot_take_another_companys_extension(ranges, make_user):
    loose = company_create(name="Loose")
    with pytest.raises(ValidationError, match="another company's extensions"):
        make_user(company=loose, extension="1050")
    assert make_user(company=loose, extension="3000").extension == "3000"


def test_moving_an_agent_to_a_company_whose_range_lacks_their_extension_is_refused(ranges, api_as):
    _alpha, beta, agent, admin, _manager = ranges
    response = api_as(admin).patch(f"users/{agent.pk}", {"company_id": beta.pk})
    assert response.status_code == 422 and "extension" in response.json()["error"]["fields"]
    assert User.objects.get(pk=agent.pk).company_id != beta.pk


def test_a_queue_number_may_not_be_an_extension_or_lie_in_a_range(ranges):
    alpha, _beta, _agent, _admin, _manager = ranges
    for number, says in [("1001", "an agent's extension"), ("2050", "another company's extensions"),
                         ("1090", "the company's own extensions 1000-1099")]:  # fmt: skip
        form = QueueForm(data={"name": "Sales", "number": number, "ring_timeout_seconds": 15, "wrapup_seconds": 10,
                               "max_wait_seconds": 300, "service_level_seconds": 20, "is_active": True},
                         company=alpha)  # fmt: skip
        assert not form.is_valid()
        assert says in " ".join(form.errors["number"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Gamma", "extension_start": "5000", "extension_end": "1000"}, "extension_end"),
        ({"name": "Gamma", "extension_start": "3000", "extension_end": ""}, "extension_end"),
        ({"name": "Gamma", "extension_start": "1050", "extension_end": "1150"}, "extension_start"),  # overlaps Alpha
        ({"name": "Gamma", "extension_start": "4000", "extension_end": "5099"}, "extension_start"),  # holds queue 5000
        ({"name": "beta"}, "name"),  # Beta's name, in other capitals
        ({"name": "   "}, "name"),
    ],
)
def test_the_api_refuses_a_company_whose_range_or_name_clashes(ranges, api_as, body, field):
    admin = ranges[3]
    before = Company.objects.count()
    response = api_as(admin).post("companies", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
    assert Company.objects.count() == before


def test_a_range_cannot_shrink_past_the_companys_own_agents(ranges, api_as):
    alpha, _beta, _agent, admin, _manager = ranges
    response = api_as(admin).patch(f"companies/{alpha.pk}", {"extension_start": "1050"})
    assert response.status_code == 422
    assert "1001" in " ".join(response.json()["error"]["fields"]["extension_start"])
    assert Company.objects.get(pk=alpha.pk).extension_start == "1000"
    assert company_update(company=alpha, extension_end="1010").extension_end == "1010"  # 1001 still inside


def test_the_company_form_refuses_what_the_api_refuses(ranges):
    data = {"name": "Gamma", "time_zone": "Asia/Seoul", "wrapup_seconds": 10, "is_active": True,
            "extension_start": "1090", "extension_end": "1190", "phone": "abc-def",
            "business_number": "12a"}  # fmt: skip
    form = CompanyForm(data=data)
    assert not form.is_valid()
    assert set(form.errors) >= {"extension_start", "phone", "business_number"}


def test_usernames_differing_only_in_capitals_are_refused_everywhere(ranges, api_as, monkeypatch):
    _alpha, _beta, _agent, admin, manager = ranges
    response = _api_user(api_as, manager, username="KIM", extension="1002")
    assert response.status_code == 422 and "username" in response.json()["error"]["fields"]
    monkeypatch.setenv("PBX_ADMIN_PASSWORD", "a-long-and-unusual-passphrase-42")
    with pytest.raises(CommandError, match="Not created"):
        call_command("createadmin", "--no-input", "--username", "Root", "--password-env", "PBX_ADMIN_PASSWORD")
    assert not User.objects.filter(username="Root").exists()
    # Two requests racing past the check still meet the index on lower(username).
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Kim", role=Role.AGENT, company=ranges[0], password="!")


def test_an_agent_on_a_call_is_neither_deactivated_nor_moved_by_the_api(ranges, api_as):
    alpha, beta, agent, admin, _manager = ranges
    User.objects.filter(pk=agent.pk).update(activity_state=ActivityState.ON_CALL, extension=None)
    assert api_as(admin).delete(f"users/{agent.pk}").status_code == 409
    response = api_as(admin).patch(f"users/{agent.pk}", {"company_id": beta.pk})
    assert response.status_code == 409 and error_code(response) == "activity_change_refused"
    assert User.objects.filter(pk=agent.pk, is_active=True, company=alpha).exists()


def test_an_away_agent_moved_to_another_company_keeps_their_reason_as_that_companys(ranges, api_as):
    alpha, beta, agent, admin, _manager = ranges
    lunch = PauseReason.objects.get(company=alpha, code="LUNCH")
    User.objects.filter(pk=agent.pk).update(activity_state=ActivityState.AWAY, pause_reason=lunch, extension="2001")
    response = api_as(admin).patch(f"users/{agent.pk}", {"company_id": beta.pk})
    assert response.status_code == 200, response.content
    moved = User.objects.get(pk=agent.pk)
    assert (moved.company_id, moved.pause_reason.company_id, moved.pause_reason.code) == (beta.pk, beta.pk, "LUNCH")


def test_create_company_checks_phone_numbers_and_queue_names(ranges):
    with pytest.raises(CommandError) as refused:
        call_command("create_company", "Gamma", "--extensions", "3000-3099", "--phone", "abc<>;",
                     "--business-number", "not-a-number", "--queue", "7000=" + "x" * 101)  # fmt: skip
    message = str(refused.value)
    assert "phone:" in message and "business_number:" in message and "longer than 100" in message
    assert not Company.objects.filter(name="Gamma").exists()
