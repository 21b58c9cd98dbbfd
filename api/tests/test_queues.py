"""/api/v1/queues: managers list, create and change their own company's queues (admins any company's), agents none;
what the queue page refuses is refused at its field with the page's words; a PATCH changes only what it sends; there
is no DELETE (a queue is deactivated); each queue says how many callers wait in it now."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.validators import MaxValueValidator, MinValueValidator
from django.test import Client
from django.utils import translation

from accounts.models import Role
from api import services
from api.tests.conftest import JsonClient, error_code, fields
from calls.forms import QueueForm
from calls.models import BusinessHours, Call, CallState, Direction, Queue

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


@pytest.fixture
def queue_a(company_a, agent_a):
    queue = Queue.objects.create(company=company_a, name="Sales", number="5000", ring_timeout_seconds=20)
    queue.members.set([agent_a])
    return queue


@pytest.fixture
def queue_b(company_b):
    return Queue.objects.create(company=company_b, name="Support", number="6000")


@pytest.fixture
def hours_a(company_a):
    return BusinessHours.objects.create(company=company_a, name="Weekdays", monday="09:00-18:00")


def page_errors(company, data: dict, *, instance=None) -> dict:
    """What the queue page says of the same values, in English."""
    with translation.override("en"):
        form = QueueForm(data, instance=instance, company=company)
        form.fields = {name: field for name, field in form.fields.items() if name in data}
        return dict(form.errors)


def waiting_call(queue, n: int, *, since: datetime, state=CallState.WAITING) -> Call:
    return Call.objects.create(
        company=queue.company,
        queue=queue,
        direction=Direction.INBOUND,
        caller_number=f"010-0000-{n:04d}",
        dialed_number=queue.number,
        caller_channel_id=f"waiting-{queue.number}-{n}",
        state=state,
        enqueued_at=since,
    )


# --- reads ------------------------------------------------------------------------------------------------------


def test_manager_lists_their_companys_queues_with_every_field(manager_a, api_as, queue_a, queue_b, hours_a, agent_a):
    Queue.objects.filter(pk=queue_a.pk).update(business_hours=hours_a)
    idle = Queue.objects.create(company=queue_a.company, name="Old line", number="5001", is_active=False)

    response = api_as(manager_a).get("queues")

    assert response.status_code == 200, response.json()
    assert response.json()["items"] == [
        {
            "id": queue_a.pk,
            "company_id": queue_a.company_id,
            "name": "Sales",
            "number": "5000",
            "ring_timeout_seconds": 20,
            "wrapup_seconds": 10,
            "max_wait_seconds": 300,
            "service_level_seconds": 20,
            "strategy": "LONGEST_IDLE",
            "member_ids": [agent_a.pk],
            "business_hours_id": hours_a.pk,
            "overflow_queue_id": None,
            "overflow_when_unstaffed": False,
            "is_active": True,
            "waiting": 0,
            "longest_waiting_since": None,
        },
        {**response.json()["items"][1], "id": idle.pk, "member_ids": [], "business_hours_id": None, "is_active": False},
    ]


def test_managers_never_see_another_companys_queue(manager_a, api_as, queue_a, queue_b):
    client = api_as(manager_a)

    asked_for_theirs = client.get("queues", company_id=queue_b.company_id)
    read = client.get(f"queues/{queue_b.pk}")
    changed = client.patch(f"queues/{queue_b.pk}", {"name": "Mine now"})
    missing = client.get("queues/987654")

    assert asked_for_theirs.json()["items"] == []
    assert (read.status_code, changed.status_code) == (404, 404)
    assert read.json() == missing.json()  # the same answer as for an id nobody has: nothing says it exists
    assert error_code(changed) == "not_found"
    assert Queue.objects.get(pk=queue_b.pk).name == "Support"
    assert client.get(f"queues/{queue_a.pk}").json()["name"] == "Sales"


def test_admin_sees_every_company_and_filters_by_one(admin_user, api_as, queue_a, queue_b):
    client = api_as(admin_user)

    everyone = client.get("queues").json()["items"]
    only_b = client.get("queues", company_id=queue_b.company_id).json()["items"]

    assert [q["id"] for q in everyone] == [queue_a.pk, queue_b.pk]
    assert [q["id"] for q in only_b] == [queue_b.pk]
    assert client.get(f"queues/{queue_b.pk}").json()["number"] == "6000"


def test_agents_are_refused_every_route_whatever_the_queue(agent_a, api_as, queue_a, queue_b):
    client = api_as(agent_a)

    answers = [
        client.get("queues"),
        client.get(f"queues/{queue_a.pk}"),
        client.get(f"queues/{queue_b.pk}"),
        client.get("queues/987654"),
        client.post("queues", {"name": "Mine", "number": "5009"}),
        client.patch(f"queues/{queue_a.pk}", {"name": "Renamed"}),
        client.patch(f"queues/{queue_b.pk}", {"name": "Renamed"}),
    ]
    english = client.get("queues", headers=EN)

    assert [(r.status_code, error_code(r)) for r in answers] == [(403, "permission_denied")] * len(answers)
    assert answers[0].json()["error"]["message"] == "큐는 관리자만 관리할 수 있습니다."  # Korean first
    assert english.json()["error"]["message"] == "Only managers and admins manage queues."
    assert sorted(Queue.objects.values_list("name", flat=True)) == ["Sales", "Support"]


def test_queues_need_a_token(db):
    assert JsonClient().get("queues").status_code == 401
    assert JsonClient().post("queues", {"name": "Sales", "number": "5000"}).status_code == 401


def test_each_queue_says_how_many_callers_wait_in_it_now(manager_a, api_as, queue_a, company_a):
    other = Queue.objects.create(company=company_a, name="Support", number="5001")
    first = (datetime.now(UTC) - timedelta(minutes=3)).replace(microsecond=0)
    waiting_call(queue_a, 1, since=first)
    waiting_call(queue_a, 2, since=first + timedelta(minutes=1))
    waiting_call(queue_a, 3, since=first - timedelta(minutes=5), state=CallState.CONNECTED)  # talking, not waiting
    waiting_call(queue_a, 4, since=first - timedelta(minutes=9), state=CallState.ENDED)

    items = {q["number"]: q for q in api_as(manager_a).get("queues").json()["items"]}
    one = api_as(manager_a).get(f"queues/{queue_a.pk}").json()

    assert (items["5000"]["waiting"], items["5001"]["waiting"], other.pk) == (2, 0, items["5001"]["id"])
    since = datetime.fromisoformat(items["5000"]["longest_waiting_since"])
    assert since == first and since.utcoffset() == timedelta(hours=9)
    assert items["5001"]["longest_waiting_since"] is None
    assert one["waiting"] == 2 and one["longest_waiting_since"] == items["5000"]["longest_waiting_since"]


# --- creating ---------------------------------------------------------------------------------------------------


def test_manager_creates_a_queue_with_the_pages_defaults(manager_a, api_as):
    response = api_as(manager_a).post("queues", {"name": "Sales", "number": "5000"})

    assert response.status_code == 201, response.json()
    body = response.json()
    queue = Queue.objects.get(pk=body["id"])
    assert queue.company_id == manager_a.company_id == body["company_id"]
    defaults = Queue()
    assert [body[name] for name in ("ring_timeout_seconds", "wrapup_seconds", "max_wait_seconds")] == [
        defaults.ring_timeout_seconds, defaults.wrapup_seconds, defaults.max_wait_seconds
    ]  # fmt: skip
    assert body["service_level_seconds"] == defaults.service_level_seconds
    assert (body["member_ids"], body["business_hours_id"], body["is_active"]) == ([], None, True)
    assert (body["waiting"], body["longest_waiting_since"]) == (0, None)


def test_manager_creates_a_queue_with_its_agents_and_hours(manager_a, agent_a, make_user, company_a, api_as, hours_a):
    second = make_user(role=Role.AGENT, company=company_a, extension="1001")
    payload = {
        "name": "Sales",
        "number": "5000",
        "ring_timeout_seconds": 30,
        "wrapup_seconds": 0,
        "max_wait_seconds": 600,
        "service_level_seconds": 15,
        "member_ids": [second.pk, agent_a.pk, agent_a.pk],
        "business_hours_id": hours_a.pk,
        "is_active": False,
    }

    response = api_as(manager_a).post("queues", payload)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {**body, **payload, "member_ids": sorted([agent_a.pk, second.pk])}
    queue = Queue.objects.get(pk=body["id"])
    assert set(queue.members.all()) == {agent_a, second}
    assert (queue.business_hours, queue.is_active, queue.max_wait_seconds) == (hours_a, False, 600)


def test_admin_names_the_company(admin_user, company_b, api_as):
    client = api_as(admin_user)

    unnamed = client.post("queues", {"name": "Sales", "number": "5000"}, headers=EN)
    unknown = client.post("queues", {"name": "Sales", "number": "5000", "company_id": 987654}, headers=EN)
    created = client.post("queues", {"name": "Sales", "number": "5000", "company_id": company_b.pk})

    assert fields(unnamed) == {"company_id": ["This field is required."]}
    assert fields(unknown) == {"company_id": ["There is no such company."]}
    assert created.status_code == 201 and created.json()["company_id"] == company_b.pk


def test_managers_create_queues_only_in_their_own_company(manager_a, company_a, company_b, api_as):
    client = api_as(manager_a)

    theirs = client.post("queues", {"name": "Theirs", "number": "6000", "company_id": company_b.pk})
    own = client.post("queues", {"name": "Ours", "number": "5000", "company_id": company_a.pk})

    assert theirs.status_code == 403 and error_code(theirs) == "permission_denied"
    assert own.status_code == 201
    assert list(Queue.objects.values_list("company_id", flat=True)) == [company_a.pk]


# --- refused at the field ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["12a", "1", "", "٥٠٠٠", "1000"])
def test_a_bad_number_is_refused_at_its_field_with_the_pages_words(manager_a, agent_a, api_as, number):
    response = api_as(manager_a).post("queues", {"name": "Sales", "number": number}, headers=EN)

    expected = page_errors(manager_a.company, {"name": "Sales", "number": number})
    assert fields(response) == {"number": expected["number"]}
    assert not Queue.objects.exists()


def test_the_pages_words_name_what_is_wrong_with_a_number(manager_a, agent_a, api_as):
    client = api_as(manager_a)

    letters = fields(client.post("queues", {"name": "Sales", "number": "12a"}, headers=EN))
    extension = fields(client.post("queues", {"name": "Sales", "number": agent_a.extension}, headers=EN))
    too_long = fields(client.post("queues", {"name": "Sales", "number": "1" * 21}, headers=EN))

    assert letters == {"number": ["A queue number is 2 to 20 digits."]}
    assert extension == {"number": ["This number is an agent's extension."]}
    assert too_long == {"number": ["At most 20 characters."]}


def test_a_number_taken_by_any_queue_is_refused_and_a_name_only_within_the_company(
    manager_a, manager_b, api_as, queue_a, queue_b
):
    taken_here = api_as(manager_a).post("queues", {"name": "Other", "number": "5000"}, headers=EN)
    taken_there = api_as(manager_a).post("queues", {"name": "Other", "number": "6000"}, headers=EN)
    same_name = api_as(manager_a).post("queues", {"name": "SALES", "number": "5001"}, headers=EN)
    their_name = api_as(manager_b).post("queues", {"name": "Sales", "number": "6001"})

    assert fields(taken_here) == fields(taken_there) == {"number": ["Another queue already has this number."]}
    assert fields(same_name) == {"name": ["Another queue of this company already has this name."]}
    assert their_name.status_code == 201  # another company may have a queue of that name


def test_members_must_be_active_agents_of_the_queues_company(manager_a, agent_a, agent_b, make_user, company_a, api_as):
    gone = make_user(role=Role.AGENT, company=company_a, extension="1001")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    client = api_as(manager_a)

    for who in (agent_b, manager_a, gone, SimpleNamespace(pk=987654)):
        members = [agent_a.pk, who.pk]
        response = client.post("queues", {"name": "Sales", "number": "5000", "member_ids": members}, headers=EN)

        expected = page_errors(company_a, {"name": "Sales", "number": "5000", "members": members})["members"]
        # An agent of another company is refused in the very words of an id nobody has: nothing says it exists.
        assert fields(response) == {"member_ids": expected}
        assert expected == [f"Select a valid choice. {who.pk} is not one of the available choices."]
    assert not Queue.objects.exists()


def test_business_hours_must_be_the_queues_companys(manager_a, api_as, hours_a, hours_b):
    client = api_as(manager_a)

    theirs = client.post("queues", {"name": "Sales", "number": "5000", "business_hours_id": hours_b.pk}, headers=EN)
    nobodys = client.post("queues", {"name": "Sales", "number": "5000", "business_hours_id": 987654}, headers=EN)

    expected = page_errors(manager_a.company, {"name": "Sales", "number": "5000", "business_hours": hours_b.pk})
    assert fields(theirs) == fields(nobodys) == {"business_hours_id": expected["business_hours"]}
    assert not Queue.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ring_timeout_seconds", 4, "Must be at least 5."),
        ("ring_timeout_seconds", 301, "Must be at most 300."),
        ("wrapup_seconds", -1, "Must be at least 0."),
        ("wrapup_seconds", 3601, "Must be at most 3600."),
        ("max_wait_seconds", 9, "Must be at least 10."),
        ("max_wait_seconds", 86401, "Must be at most 86400."),
        ("service_level_seconds", 0, "Must be at least 1."),
        ("service_level_seconds", 3601, "Must be at most 3600."),
        ("ring_timeout_seconds", "15", "Must be a whole number."),
        ("ring_timeout_seconds", 15.5, "Must be a whole number."),
        ("ring_timeout_seconds", 10**30, "Must be at most 300."),
        ("ring_timeout_seconds", None, "Must be a whole number."),
        ("is_active", "no", "Must be true or false."),
        ("member_ids", "1", "Must be a list."),
        ("member_ids", [0], "Must be at least 1."),
        ("business_hours_id", "1", "Must be a whole number."),
        ("name", "", "At least 1 characters."),
        ("name", "x" * 101, "At most 100 characters."),
        ("overflow", 1, "Not a field of this request."),
    ],
)
def test_out_of_range_or_wrongly_typed_values_are_refused_at_their_field(manager_a, api_as, field, value, message):
    client = api_as(manager_a)

    created = client.post("queues", {"name": "Sales", "number": "5000", field: value}, headers=EN)

    field_name = f"{field}.0" if field == "member_ids" and isinstance(value, list) else field
    assert fields(created) == {field_name: [message]}
    assert not Queue.objects.exists()


def test_the_timeouts_ranges_are_the_models_own(manager_a, api_as):
    """The document states the ranges the queue page keeps, and either end is taken."""
    for field in ("ring_timeout_seconds", "wrapup_seconds", "max_wait_seconds", "service_level_seconds"):
        validators = Queue._meta.get_field(field).validators
        low = max((v.limit_value for v in validators if isinstance(v, MinValueValidator)), default=0)
        high = min(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
        for n, value in enumerate((low, high)):
            number = f"5{n}{len(field)}"
            response = api_as(manager_a).post("queues", {"name": f"{field} {n}", "number": number, field: value})
            assert response.status_code == 201, (field, value, response.json())
            assert response.json()[field] == value


# --- changing ---------------------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(manager_a, api_as, queue_a, hours_a, agent_a):
    Queue.objects.filter(pk=queue_a.pk).update(business_hours=hours_a, max_wait_seconds=120)
    client = api_as(manager_a)
    before = client.get(f"queues/{queue_a.pk}").json()

    renamed = client.patch(f"queues/{queue_a.pk}", {"name": "Sales 2"})
    slower = client.patch(f"queues/{queue_a.pk}", {"ring_timeout_seconds": 45})

    assert renamed.status_code == 200, renamed.json()
    assert renamed.json() == {**before, "name": "Sales 2"}
    assert slower.json() == {**before, "name": "Sales 2", "ring_timeout_seconds": 45}
    queue = Queue.objects.get(pk=queue_a.pk)
    assert (queue.name, queue.ring_timeout_seconds, queue.max_wait_seconds) == ("Sales 2", 45, 120)
    assert (list(queue.members.all()), queue.business_hours) == ([agent_a], hours_a)


def test_patch_replaces_members_clears_hours_and_deactivates(manager_a, make_user, company_a, api_as, queue_a, hours_a):
    Queue.objects.filter(pk=queue_a.pk).update(business_hours=hours_a)
    second = make_user(role=Role.AGENT, company=company_a, extension="1001")
    client = api_as(manager_a)

    new_members = client.patch(f"queues/{queue_a.pk}", {"member_ids": [second.pk]})
    always_open = client.patch(f"queues/{queue_a.pk}", {"business_hours_id": None})
    everyone = client.patch(f"queues/{queue_a.pk}", {"member_ids": []})
    deactivated = client.patch(f"queues/{queue_a.pk}", {"is_active": False})

    assert new_members.json()["member_ids"] == [second.pk]
    assert always_open.json()["business_hours_id"] is None and always_open.json()["member_ids"] == [second.pk]
    assert everyone.json()["member_ids"] == []
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    queue = Queue.objects.get(pk=queue_a.pk)
    assert (queue.is_active, queue.business_hours, list(queue.members.all())) == (False, None, [])
    assert client.get("queues").json()["items"][0]["is_active"] is False  # still listed: its calls keep it
    assert client.patch(f"queues/{queue_a.pk}", {"is_active": True}).json()["is_active"] is True


def test_a_patch_without_members_keeps_one_deactivated_since(manager_a, agent_a, api_as, queue_a):
    agent_a.is_active = False
    agent_a.save(update_fields=["is_active"])
    client = api_as(manager_a)

    renamed = client.patch(f"queues/{queue_a.pk}", {"name": "Sales 2"})
    members_sent = client.patch(f"queues/{queue_a.pk}", {"member_ids": [agent_a.pk]}, headers=EN)

    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["member_ids"] == [agent_a.pk]
    assert list(fields(members_sent)) == ["member_ids"]  # sent again, they are checked as the page checks them


def test_patch_is_checked_like_a_create(manager_a, api_as, queue_a, queue_b, hours_b):
    client = api_as(manager_a)

    taken = client.patch(f"queues/{queue_a.pk}", {"number": "6000"}, headers=EN)
    bad = client.patch(f"queues/{queue_a.pk}", {"ring_timeout_seconds": 1, "company_id": 1}, headers=EN)
    hours = client.patch(f"queues/{queue_a.pk}", {"business_hours_id": hours_b.pk}, headers=EN)
    nulled = client.patch(f"queues/{queue_a.pk}", {"name": None, "number": None}, headers=EN)
    same_number = client.patch(f"queues/{queue_a.pk}", {"number": "5000", "name": "SALES"})

    assert fields(taken) == {"number": ["Another queue already has this number."]}
    assert fields(bad) == {
        "ring_timeout_seconds": ["Must be at least 5."],
        "company_id": ["Not a field of this request."],
    }
    assert list(fields(hours)) == ["business_hours_id"]
    assert set(fields(nulled)) == {"name", "number"}
    assert same_number.status_code == 200 and same_number.json()["name"] == "SALES"
    queue = Queue.objects.get(pk=queue_a.pk)
    assert (queue.number, queue.ring_timeout_seconds, queue.business_hours) == ("5000", 20, None)


def test_a_number_taken_between_the_check_and_the_write_is_refused_at_its_field(
    manager_a, company_b, api_as, monkeypatch
):
    class RivalWritesFirst(QueueForm):
        def is_valid(self):
            valid = super().is_valid()
            if valid and not Queue.objects.filter(number="5000").exists():
                Queue.objects.create(company=company_b, name="Rival", number="5000")
            return valid

    monkeypatch.setattr(services, "QueueForm", RivalWritesFirst)

    response = api_as(manager_a).post("queues", {"name": "Sales", "number": "5000"}, headers=EN)

    assert fields(response) == {"number": ["Another queue already has this number."]}
    assert list(Queue.objects.values_list("name", flat=True)) == ["Rival"]


def test_queues_are_deactivated_not_deleted(manager_a, admin_user, api_as, queue_a):
    answers = [api_as(user).delete(f"queues/{queue_a.pk}") for user in (manager_a, admin_user)]

    assert [r.status_code for r in answers] == [405, 405]
    assert Queue.objects.filter(pk=queue_a.pk).exists()


def test_the_document_lists_the_queue_routes_and_no_delete(db):
    document = Client().get("/api/v1/openapi.json").json()

    assert set(document["paths"]["/api/v1/queues"]) == {"get", "post"}
    assert set(document["paths"]["/api/v1/queues/{queue_id}"]) == {"get", "patch"}
    patch = document["paths"]["/api/v1/queues/{queue_id}"]["patch"]
    assert patch["tags"] == ["queues"] and "is_active: false" in patch["description"]
    ring = document["components"]["schemas"]["QueueIn"]["properties"]["ring_timeout_seconds"]
    assert (ring["minimum"], ring["maximum"], ring["default"]) == (5, 300, 15)


def test_a_queue_overflows_to_another_active_queue_of_its_company(manager_a, api_as, queue_a, queue_b):
    client = api_as(manager_a)
    backup = client.post("queues", {"name": "Backup", "number": "5001"}).json()

    moved = client.patch(f"queues/{queue_a.pk}", {"overflow_queue_id": backup["id"]})
    itself = client.patch(f"queues/{queue_a.pk}", {"overflow_queue_id": queue_a.pk}, headers=EN)
    theirs = client.patch(f"queues/{queue_a.pk}", {"overflow_queue_id": queue_b.pk}, headers=EN)
    cleared = client.patch(f"queues/{backup['id']}", {"name": "Backup line"})

    assert moved.status_code == 200 and moved.json()["overflow_queue_id"] == backup["id"]
    assert itself.status_code == theirs.status_code == 422
    assert set(fields(itself)) == set(fields(theirs)) == {"overflow_queue_id"}
    assert cleared.json()["overflow_queue_id"] is None
    assert Queue.objects.get(pk=queue_a.pk).overflow_queue_id == backup["id"]
    at_once = client.patch(f"queues/{queue_a.pk}", {"overflow_when_unstaffed": True}).json()
    assert (at_once["overflow_when_unstaffed"], at_once["overflow_queue_id"]) == (True, backup["id"])
    assert client.patch(f"queues/{queue_a.pk}", {"overflow_queue_id": None}).json()["overflow_queue_id"] is None
