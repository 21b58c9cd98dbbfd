"""/api/v1/calls: who sees which calls, the call-log filters, cursor pagination, and one call's timeline."""

import pytest

from api.tests.conftest import error_code
from calls.models import Call, Disposition

pytestmark = pytest.mark.django_db


@pytest.fixture
def everyone(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b, "agent_b": agent_b}


def ids(response):
    assert response.status_code == 200, response.json()
    return [call["id"] for call in response.json()["items"]]


def test_each_role_sees_its_own_calls_newest_first(everyone, api_as, seeded_calls):
    company_a_calls = [c.pk for c in seeded_calls if c.company_id == everyone["agent_a"].company_id]
    agent_a_calls = [c.pk for c in seeded_calls if c.agent_id == everyone["agent_a"].pk]
    company_b_calls = [c.pk for c in seeded_calls if c.company_id == everyone["agent_b"].company_id]

    by_time = sorted(seeded_calls, key=lambda c: (c.enqueued_at, c.pk), reverse=True)
    assert ids(api_as(everyone["admin"]).get("calls")) == [c.pk for c in by_time]
    assert set(ids(api_as(everyone["manager_a"]).get("calls"))) == set(company_a_calls)
    assert set(ids(api_as(everyone["agent_a"]).get("calls"))) == set(agent_a_calls)
    assert set(ids(api_as(everyone["manager_b"]).get("calls"))) == set(company_b_calls)


@pytest.mark.parametrize(
    ("reader", "owner_index", "status"),
    [
        ("manager_a", 0, 200),
        ("manager_a", 5, 404),
        ("agent_a", 0, 200),
        ("agent_a", 1, 404),  # a company-A call taken by another agent
        ("agent_b", 0, 404),
        ("admin", 6, 200),
    ],
)
def test_one_call_is_shown_only_to_who_may_see_it(everyone, api_as, seeded_calls, reader, owner_index, status):
    response = api_as(everyone[reader]).get(f"calls/{seeded_calls[owner_index].pk}")

    assert response.status_code == status


def test_call_detail_has_its_offers_and_timeline_in_seoul_time(everyone, api_as, seeded_calls):
    call = seeded_calls[0]

    body = api_as(everyone["manager_a"]).get(f"calls/{call.pk}").json()

    assert body["caller_number"] == "010-1111-2222" and body["caller_name"] == "고객 0"
    assert body["started_at"] == "2026-11-25T00:30:00+09:00"
    assert body["disposition"] == "ANSWERED" and body["direction"] == "INBOUND" and body["state"] == "ENDED"
    assert body["queue"] == {"id": call.queue_id, "name": "Sales", "number": "5000"}
    assert body["agent"]["username"] == "agent_a"
    assert [o["result"] for o in body["offers"]] == ["ANSWERED"]
    assert [e["kind"] for e in body["events"]] == ["StasisStart", "ChannelDestroyed"]
    assert body["events"][0]["detail"] == {"n": 0}
    flat = repr(body)
    assert "caller_number_index" not in flat and "gAAAA" not in flat  # no blind index, no Fernet token


def test_a_calls_note_is_written_by_who_may_see_the_call_and_read_with_it(everyone, api_as, seeded_calls):
    call = seeded_calls[0]  # agent_a's, in company A

    written = api_as(everyone["agent_a"]).put(f"calls/{call.pk}/note", {"text": "  고객이 환불을 원함  "})
    body = api_as(everyone["manager_a"]).get(f"calls/{call.pk}").json()

    assert written.status_code == 200
    assert written.json()["text"] == "고객이 환불을 원함" and written.json()["updated_at"].endswith("+09:00")
    assert body["note"]["text"] == "고객이 환불을 원함" and body["note"]["updated_by"]["username"] == "agent_a"
    assert "gAAAA" not in repr(body)


@pytest.mark.parametrize(("writer", "status"), [("agent_b", 404), ("manager_b", 404), ("manager_a", 200)])
def test_a_calls_note_from_who_cannot_see_the_call_is_refused(everyone, api_as, seeded_calls, writer, status):
    call = seeded_calls[0]

    response = api_as(everyone[writer]).put(f"calls/{call.pk}/note", {"text": "noted"})

    assert response.status_code == status
    note = api_as(everyone["admin"]).get(f"calls/{call.pk}").json()["note"]
    assert note["text"] == ("noted" if status == 200 else "")


def test_a_calls_note_too_long_or_misspelled_is_refused_and_nothing_changes(everyone, api_as, seeded_calls):
    call, client = seeded_calls[0], api_as(everyone["agent_a"])
    client.put(f"calls/{call.pk}/note", {"text": "kept"})

    too_long = client.put(f"calls/{call.pk}/note", {"text": "x" * 2001})
    misspelled = client.put(f"calls/{call.pk}/note", {"txt": "lost?"})
    emptied = client.put(f"calls/{call.pk}/note", {"text": ""})

    assert (too_long.status_code, misspelled.status_code) == (422, 422)
    assert "text" in too_long.json()["error"]["fields"]
    assert emptied.status_code == 200 and emptied.json() == {"text": "", "updated_at": None, "updated_by": None}


def test_days_are_seoul_days(everyone, api_as, seeded_calls):
    client = api_as(everyone["admin"])

    on_the_25th = ids(client.get("calls", date_from="2026-11-25", date_to="2026-11-25"))
    from_the_26th = ids(client.get("calls", date_from="2026-11-26"))

    assert set(on_the_25th) == {seeded_calls[i].pk for i in (0, 1, 5)}
    assert set(from_the_26th) == {seeded_calls[i].pk for i in (2, 3, 4, 6)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"disposition": "ANSWERED"}, {0, 3, 4}),
        ({"direction": "INTERNAL"}, {2}),
        ({"queue_id": "QUEUE"}, {0, 1, 3, 4}),
        ({"agent_id": "AGENT_A"}, {0, 2, 3}),
        ({"phone": "+82 10 1111 2222"}, {0, 3}),
        ({"phone": "010-1111-2222", "disposition": "ANSWERED", "date_from": "2026-11-26"}, {3}),
    ],
)
def test_call_log_filters(everyone, api_as, seeded_calls, query, expected):
    query = dict(query)
    if query.get("queue_id") == "QUEUE":
        query["queue_id"] = seeded_calls[0].queue_id
    if query.get("agent_id") == "AGENT_A":
        query["agent_id"] = everyone["agent_a"].pk

    found = ids(api_as(everyone["manager_a"]).get("calls", **query))

    assert set(found) == {seeded_calls[i].pk for i in expected}


def test_cursor_walks_every_call_once_in_order(everyone, api_as, seeded_calls):
    client, seen, cursor = api_as(everyone["admin"]), [], None
    for _ in range(10):
        page = client.get("calls", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [call["id"] for call in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    by_time = sorted(seeded_calls, key=lambda c: (c.enqueued_at, c.pk), reverse=True)
    assert seen == [c.pk for c in by_time]


def test_cursor_never_shows_another_companys_calls(everyone, api_as, seeded_calls):
    admin_page = api_as(everyone["admin"]).get("calls", limit=1).json()

    page = api_as(everyone["manager_b"]).get("calls", cursor=admin_page["next_cursor"]).json()

    assert {call["company_id"] for call in page["items"]} == {everyone["agent_b"].company_id}


@pytest.mark.parametrize("cursor", ["garbage", "W10:abc", "eyJ4IjoxfQ", "a" * 500])
def test_bad_cursor_is_a_400(everyone, api_as, seeded_calls, cursor):
    response = api_as(everyone["admin"]).get("calls", cursor=cursor)

    assert response.status_code == 400
    assert error_code(response) == "invalid_cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2026-11-27", "date_to": "2026-11-25"}, "date_from"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"agent_id": str(2**64)}, "agent_id"),
        ({"agent_id": "-1"}, "agent_id"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"disposition": "MAYBE"}, "disposition"),
        ({"phone": "\x00"}, "phone"),
    ],
)
def test_bad_filters_are_a_422_naming_the_field(everyone, api_as, seeded_calls, query, field):
    response = api_as(everyone["admin"]).get("calls", **query)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("query", [{"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}, {"date_to": "0001-01-01"}])
def test_dates_at_the_ends_of_the_calendar_are_answered(everyone, api_as, seeded_calls, query):
    response = api_as(everyone["admin"]).get("calls", **query)

    assert response.status_code == 200


def test_company_filter_narrows_an_admins_log_and_opens_no_other_company(everyone, api_as, seeded_calls):
    """QA: `?company_id=` was ignored, so an admin asking for one company got every company's calls."""
    company_a, company_b = everyone["agent_a"].company_id, everyone["agent_b"].company_id
    company_b_calls = {c.pk for c in seeded_calls if c.company_id == company_b}
    assert set(ids(api_as(everyone["admin"]).get("calls", company_id=company_b))) == company_b_calls
    assert ids(api_as(everyone["manager_a"]).get("calls", company_id=company_b)) == []
    assert set(ids(api_as(everyone["manager_a"]).get("calls", company_id=company_a))) == {
        c.pk for c in seeded_calls if c.company_id == company_a
    }


def test_an_after_hours_call_is_shown_and_filtered_as_closed(everyone, api_as, seeded_calls):
    Call.objects.filter(pk=seeded_calls[1].pk).update(disposition=Disposition.CLOSED, agent=None)
    client = api_as(everyone["manager_a"])

    closed = client.get("calls", disposition="CLOSED")

    assert ids(closed) == [seeded_calls[1].pk]
    assert closed.json()["items"][0]["disposition"] == "CLOSED"
    assert client.get(f"calls/{seeded_calls[1].pk}").json()["disposition"] == "CLOSED"


def test_a_call_from_a_blocked_number_is_shown_and_filtered_as_blocked(everyone, api_as, seeded_calls):
    Call.objects.filter(pk=seeded_calls[1].pk).update(disposition=Disposition.BLOCKED, agent=None, answered_at=None)
    client = api_as(everyone["manager_a"])

    blocked = client.get("calls", disposition="BLOCKED")

    assert ids(blocked) == [seeded_calls[1].pk]
    assert blocked.json()["items"][0]["disposition"] == "BLOCKED"
    assert client.get(f"calls/{seeded_calls[1].pk}").json()["disposition"] == "BLOCKED"
