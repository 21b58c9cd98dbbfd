"""/api/v1/calls/{id}/abuse-report and /api/v1/abuse-reports: whoever may see a call reports its caller, a call reported
again has its report reopened; managers (admins: any company's) block the number or dismiss the report, once; agents
see the reports they made and answer none."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.tests.conftest import error_code, fields, walk_pages
from calls.models import AbuseReport, BlockedCaller, Call, CallState, Direction
from calls.services_abuse import abuse_report, abuse_report_dismiss
from calls.services_blocking import caller_block

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}
KO = {"Accept-Language": "ko"}


@pytest.fixture
def everyone(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b, "agent_b": agent_b}


@pytest.fixture
def report_a(seeded_calls, agent_a):
    """agent_a's report on the call they took from 010-1111-2222."""
    return abuse_report(call=seeded_calls[0], by=agent_a, reason="Shouted and swore")


@pytest.fixture
def report_b(seeded_calls, agent_b):
    return abuse_report(call=seeded_calls[5], by=agent_b, reason="Threatened me")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [report["id"] for report in response.json()["items"]]


def call_without_number(company, agent):
    return Call.objects.create(
        company=company,
        agent=agent,
        direction=Direction.INBOUND,
        caller_number="",
        dialed_number="5000",
        caller_channel_id="anonymous",
        state=CallState.ENDED,
        enqueued_at=timezone.now(),
        ended_at=timezone.now(),
    )


# --- reporting --------------------------------------------------------------------------------------------------


def test_agent_reports_the_caller_of_a_call_they_took(agent_a, api_as, seeded_calls):
    call = seeded_calls[0]

    response = api_as(agent_a).post(f"calls/{call.pk}/abuse-report", {"reason": " Shouted and swore "})

    assert response.status_code == 201, response.json()
    body = response.json()
    report = AbuseReport.objects.get()
    assert body["id"] == report.pk and body["call_id"] == call.pk
    assert body["company_id"] == call.company_id == report.company_id
    assert body["caller_number"] == "010-1111-2222"  # as the call log shows it
    assert body["reason"] == report.reason == "Shouted and swore"
    assert body["reported_by"] == {
        "id": agent_a.pk,
        "username": "agent_a",
        "full_name": agent_a.get_full_name(),
        "extension": "1000",
    }
    assert body["reported_at"].endswith("+09:00")
    assert (body["outcome"], body["handled_by"], body["handled_at"]) == (None, None, None)


def test_nothing_encrypted_or_hashed_leaves(agent_a, api_as, report_a):
    (item,) = api_as(agent_a).get("abuse-reports").json()["items"]

    assert set(item) == {
        "id", "company_id", "call_id", "caller_number", "reason", "reported_by", "reported_at", "outcome",
        "handled_by", "handled_at",
    }  # fmt: skip
    assert report_a.call.caller_number_index not in str(item)


def test_reporting_a_reported_call_again_reopens_its_report(manager_a, company_a, api_as, report_a):
    caller_block(company=company_a, number="010-1111-2222")
    abuse_report_dismiss(report=report_a, by=manager_a)

    response = api_as(manager_a).post(f"calls/{report_a.call_id}/abuse-report", {"reason": "Called again"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == report_a.pk and body["reason"] == "Called again"
    assert body["reported_by"]["id"] == manager_a.pk
    assert (body["outcome"], body["handled_by"], body["handled_at"]) == (None, None, None)
    assert AbuseReport.objects.open().count() == 1


@pytest.mark.parametrize(
    ("reader", "call_index"),
    [
        ("agent_a", 1),  # a company-A call another agent took
        ("agent_a", 5),
        ("manager_b", 0),
        ("agent_b", 0),
    ],
)
def test_a_call_the_reader_cannot_see_is_not_found(everyone, api_as, seeded_calls, reader, call_index):
    response = api_as(everyone[reader]).post(f"calls/{seeded_calls[call_index].pk}/abuse-report", {"reason": "Rude"})

    assert response.status_code == 404 and error_code(response) == "not_found"
    assert not AbuseReport.objects.exists()


def test_managers_and_admins_report_any_call_they_see(manager_a, admin_user, api_as, seeded_calls):
    by_manager = api_as(manager_a).post(f"calls/{seeded_calls[1].pk}/abuse-report", {"reason": "Rude"})
    by_admin = api_as(admin_user).post(f"calls/{seeded_calls[5].pk}/abuse-report", {"reason": "Rude"})

    assert (by_manager.status_code, by_admin.status_code) == (201, 201)
    assert by_admin.json()["company_id"] == seeded_calls[5].company_id


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"reason": ""}, "Say what happened, in up to 200 characters."),
        ({"reason": "   "}, "Say what happened, in up to 200 characters."),
        ({"reason": "x" * 201}, "At most 200 characters."),
        ({"reason": 7}, "Must be text."),
        ({}, "This field is required."),
    ],
)
def test_a_missing_or_too_long_reason_is_refused_at_its_field(agent_a, api_as, seeded_calls, body, message):
    response = api_as(agent_a).post(f"calls/{seeded_calls[0].pk}/abuse-report", body, headers=EN)

    assert fields(response) == {"reason": [message]}
    assert not AbuseReport.objects.exists()


def test_a_blank_reason_is_refused_in_korean_for_a_korean_reader(agent_a, api_as, seeded_calls):
    response = api_as(agent_a).post(f"calls/{seeded_calls[0].pk}/abuse-report", {"reason": " "}, headers=KO)

    assert fields(response) == {"reason": ["무슨 일이 있었는지 200자 이내로 적어 주세요."]}


def test_a_call_of_no_company_cannot_be_reported(admin_user, api_as, seeded_calls):
    Call.objects.filter(pk=seeded_calls[0].pk).update(company=None)

    response = api_as(admin_user).post(f"calls/{seeded_calls[0].pk}/abuse-report", {"reason": "Rude"}, headers=EN)

    assert response.status_code == 422 and error_code(response) == "no_company"
    assert response.json()["error"]["message"] == (
        "This call belongs to no company: there are no managers to report it to."
    )
    assert not AbuseReport.objects.exists()


# --- the list ---------------------------------------------------------------------------------------------------


def test_each_role_sees_its_own_reports(everyone, api_as, seeded_calls, report_a, report_b):
    by_manager = abuse_report(call=seeded_calls[1], by=everyone["manager_a"], reason="Rude")

    seen = {name: set(ids(api_as(user).get("abuse-reports"))) for name, user in everyone.items()}

    assert seen == {
        "admin": {report_a.pk, report_b.pk, by_manager.pk},
        "manager_a": {report_a.pk, by_manager.pk},
        "agent_a": {report_a.pk},  # not the manager's report on a call of the company's
        "manager_b": {report_b.pk},
        "agent_b": {report_b.pk},
    }


def test_admin_sees_newest_first_and_filters_by_company(admin_user, api_as, report_a, report_b):
    client = api_as(admin_user)

    assert ids(client.get("abuse-reports")) == [report_b.pk, report_a.pk]
    assert ids(client.get("abuse-reports", company_id=report_a.company_id)) == [report_a.pk]


def test_managers_asking_for_another_company_get_none(manager_a, api_as, report_a, report_b):
    assert ids(api_as(manager_a).get("abuse-reports", company_id=report_b.company_id)) == []


def test_open_filters_reports_waiting_for_an_answer_or_answered(admin_user, api_as, report_a, report_b):
    abuse_report_dismiss(report=report_b, by=admin_user)
    client = api_as(admin_user)

    assert ids(client.get("abuse-reports", open="true")) == [report_a.pk]
    assert ids(client.get("abuse-reports", open="false")) == [report_b.pk]
    assert fields(client.get("abuse-reports", open="yes", headers=EN)) == {"open": ["must be true or false"]}


def reports(company, agent, n: int, *, same_time_from: int, name: str = "r") -> list[AbuseReport]:
    """n reports by the agent on calls of the company, one a minute apart in the order made, the ones from
    `same_time_from` on at the same moment (so only their ids order them)."""
    start = timezone.now() - timedelta(days=1)
    made = []
    for i in range(n):
        call = Call.objects.create(
            company=company,
            agent=agent,
            direction=Direction.INBOUND,
            caller_number=f"0105555{i:04d}",
            dialed_number="5000",
            caller_channel_id=f"{name}-{i}",
            state=CallState.ENDED,
            enqueued_at=start,
            ended_at=start,
        )
        report = abuse_report(call=call, by=agent, reason=f"Rude {i}")
        AbuseReport.objects.filter(pk=report.pk).update(reported_at=start + timedelta(minutes=min(i, same_time_from)))
        report.refresh_from_db()
        made.append(report)
    return made


def oldest_first(made) -> list[int]:
    return [report.pk for report in sorted(made, key=lambda report: (report.reported_at, report.pk))]


def test_open_reports_are_listed_oldest_first_the_others_newest_first(manager_a, company_a, agent_a, api_as):
    first, second, third = reports(company_a, agent_a, 3, same_time_from=3)
    abuse_report_dismiss(report=second, by=manager_a)
    client = api_as(manager_a)

    assert ids(client.get("abuse-reports", open="true")) == [first.pk, third.pk]  # the longest waiting first
    assert ids(client.get("abuse-reports")) == [third.pk, second.pk, first.pk]
    assert ids(client.get("abuse-reports", open="false")) == [second.pk]


def test_pages_of_open_reports_show_each_once_oldest_first(manager_a, company_a, agent_a, api_as):
    made = reports(company_a, agent_a, 9, same_time_from=4)  # five at one moment, across a page's end
    for answered in made[:2]:
        abuse_report_dismiss(report=answered, by=manager_a)

    seen, sizes = walk_pages(api_as(manager_a), "abuse-reports", open="true", limit=3)

    assert seen == oldest_first(made[2:])
    assert sizes == [3, 3, 1]


def test_pages_of_every_report_show_each_once_newest_first(manager_a, company_a, agent_a, api_as):
    made = reports(company_a, agent_a, 7, same_time_from=3)
    abuse_report_dismiss(report=made[0], by=manager_a)
    client = api_as(manager_a)

    every, sizes = walk_pages(client, "abuse-reports", limit=2)
    answered, _sizes = walk_pages(client, "abuse-reports", open="false", limit=2)

    assert every == oldest_first(made)[::-1]
    assert sizes == [2, 2, 2, 1]
    assert answered == [made[0].pk]


def test_more_open_reports_than_a_page_take_two_pages(manager_a, company_a, agent_a, api_as):
    made = reports(company_a, agent_a, 53, same_time_from=50)

    seen, sizes = walk_pages(api_as(manager_a), "abuse-reports", open="true")

    assert seen == oldest_first(made)
    assert sizes == [50, 3]


def test_a_report_answered_while_paging_hides_no_other(manager_a, company_a, agent_a, api_as):
    made = reports(company_a, agent_a, 4, same_time_from=4)
    client = api_as(manager_a)
    first = client.get("abuse-reports", open="true", limit=2).json()

    abuse_report_dismiss(report=made[0], by=manager_a)  # shown on the first page, no longer open
    rest = client.get("abuse-reports", open="true", limit=2, cursor=first["next_cursor"]).json()

    assert [r["id"] for r in first["items"] + rest["items"]] == oldest_first(made)
    assert rest["next_cursor"] is None


def test_an_agent_pages_through_their_own_reports_only(agent_a, manager_a, company_a, api_as):
    own = reports(company_a, agent_a, 3, same_time_from=3)
    reports(company_a, manager_a, 3, same_time_from=3, name="manager")
    client = api_as(agent_a)

    open_ones, _sizes = walk_pages(client, "abuse-reports", open="true", limit=1)
    every, _sizes = walk_pages(client, "abuse-reports", limit=1)

    assert open_ones == oldest_first(own)
    assert every == oldest_first(own)[::-1]


def test_another_companys_cursor_shows_only_my_reports(admin_user, manager_b, company_a, agent_a, api_as, report_b):
    AbuseReport.objects.filter(pk=report_b.pk).update(reported_at=timezone.now() - timedelta(days=2))  # the oldest
    reports(company_a, agent_a, 3, same_time_from=3)
    admin_page = api_as(admin_user).get("abuse-reports", limit=1).json()

    response = api_as(manager_b).get("abuse-reports", cursor=admin_page["next_cursor"])

    assert ids(response) == [report_b.pk]


@pytest.mark.parametrize("cursor", ["garbage", "W10:abc", "eyJ4IjoxfQ", "a" * 500])
@pytest.mark.parametrize("open_only", [None, "true", "false"])
def test_a_bad_cursor_is_a_400_at_its_field(manager_a, api_as, report_a, cursor, open_only):
    query = {"open": open_only} if open_only else {}

    response = api_as(manager_a).get("abuse-reports", cursor=cursor, headers=EN, **query)

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_cursor",
        "message": "This cursor is not one the API gave out.",
        "fields": {"cursor": ["Invalid cursor."]},
    }


def test_a_cursor_of_one_order_is_refused_in_the_other(manager_a, company_a, agent_a, api_as):
    made = reports(company_a, agent_a, 3, same_time_from=3)
    abuse_report_dismiss(report=made[0], by=manager_a)
    client = api_as(manager_a)
    oldest_first_cursor = client.get("abuse-reports", open="true", limit=1).json()["next_cursor"]
    newest_first_cursor = client.get("abuse-reports", limit=1).json()["next_cursor"]

    refused = [
        client.get("abuse-reports", cursor=oldest_first_cursor),
        client.get("abuse-reports", open="false", cursor=oldest_first_cursor),
        client.get("abuse-reports", open="true", cursor=newest_first_cursor),
    ]
    answered_after_newest = client.get("abuse-reports", open="false", cursor=newest_first_cursor)

    assert [(r.status_code, error_code(r)) for r in refused] == [(400, "invalid_cursor")] * 3
    assert ids(answered_after_newest) == [made[0].pk]  # newest first either way: the cursor holds


def test_a_cursor_of_another_list_is_refused(admin_user, api_as, seeded_calls, report_a):
    client = api_as(admin_user)
    calls_cursor = client.get("calls", limit=1).json()["next_cursor"]

    response = client.get("abuse-reports", cursor=calls_cursor)

    assert response.status_code == 400 and error_code(response) == "invalid_cursor"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "-1"}, "must be a whole number"),
        ({"limit": "0"}, "Must be at least 1."),
        ({"limit": "51"}, "Must be at most 50."),
        ({"limit": "1.5"}, "must be a whole number"),
    ],
)
def test_a_bad_limit_is_a_422_at_its_field(agent_a, api_as, report_a, query, message):
    response = api_as(agent_a).get("abuse-reports", headers=EN, **query)

    assert fields(response) == {"limit": [message]}


def test_an_agent_sees_what_became_of_their_report(agent_a, manager_a, api_as, report_a):
    api_as(manager_a).post(f"abuse-reports/{report_a.pk}/dismiss")

    (item,) = api_as(agent_a).get("abuse-reports").json()["items"]

    assert item["outcome"] == "DISMISSED"
    assert item["handled_by"]["id"] == manager_a.pk
    assert item["handled_at"].endswith("+09:00")


def test_abuse_reports_need_a_token(db):
    from api.tests.conftest import JsonClient

    assert JsonClient().get("abuse-reports").status_code == 401


# --- answers ----------------------------------------------------------------------------------------------------


def test_manager_blocks_the_reported_number_until_unblocked(manager_a, api_as, report_a):
    client = api_as(manager_a)

    response = client.post(f"abuse-reports/{report_a.pk}/block", {})

    assert response.status_code == 200, response.json()
    body = response.json()
    blocked = BlockedCaller.objects.get()
    assert body["id"] == blocked.pk and body["company_id"] == report_a.company_id
    assert body["number"] == "01011112222"
    assert body["reason"] == "Shouted and swore"
    assert body["blocked_by"]["id"] == manager_a.pk
    assert (body["until"], body["in_force"]) == (None, True)
    (item,) = client.get("abuse-reports").json()["items"]
    assert item["outcome"] == "BLOCKED" and item["handled_by"]["id"] == manager_a.pk


def test_a_block_may_end_by_itself(manager_a, api_as, report_a):
    until = (timezone.now() + timedelta(days=7)).replace(microsecond=0)

    response = api_as(manager_a).post(f"abuse-reports/{report_a.pk}/block", {"until": until.isoformat()})

    assert response.status_code == 200, response.json()
    assert BlockedCaller.objects.get().until == until
    assert response.json()["until"].endswith("+09:00")


def test_blocking_a_number_blocked_already_changes_that_block(manager_a, company_a, api_as, report_a):
    blocked = caller_block(company=company_a, number="+82 10 1111 2222", reason="Old", until=timezone.now())

    response = api_as(manager_a).post(f"abuse-reports/{report_a.pk}/block", {"until": None})

    assert response.status_code == 200
    assert response.json()["id"] == blocked.pk and response.json()["reason"] == "Shouted and swore"
    assert BlockedCaller.objects.get().until is None


def test_admin_answers_any_companys_report(admin_user, api_as, report_a, report_b):
    client = api_as(admin_user)

    blocked = client.post(f"abuse-reports/{report_b.pk}/block", {})
    dismissed = client.post(f"abuse-reports/{report_a.pk}/dismiss")

    assert (blocked.status_code, dismissed.status_code) == (200, 204)
    assert blocked.json()["company_id"] == report_b.company_id
    assert dict(AbuseReport.objects.values_list("pk", "outcome")) == {report_a.pk: "DISMISSED", report_b.pk: "BLOCKED"}


def test_dismissing_blocks_nothing(manager_a, api_as, report_a):
    response = api_as(manager_a).post(f"abuse-reports/{report_a.pk}/dismiss")

    assert response.status_code == 204 and response.content == b""
    report_a.refresh_from_db()
    assert (report_a.outcome, report_a.handled_by_id) == ("DISMISSED", manager_a.pk)
    assert report_a.handled_at is not None
    assert not BlockedCaller.objects.exists()


@pytest.mark.parametrize("answer", ["block", "dismiss"])
@pytest.mark.parametrize("answered", ["block", "dismiss"])
def test_a_report_is_answered_once(manager_a, api_as, report_a, answer, answered):
    client = api_as(manager_a)
    assert client.post(f"abuse-reports/{report_a.pk}/{answered}", {}).status_code in (200, 204)

    response = client.post(f"abuse-reports/{report_a.pk}/{answer}", {}, headers=EN)

    assert response.status_code == 409 and error_code(response) == "conflict"
    outcome = {"block": "Number blocked", "dismiss": "Dismissed"}[answered]
    assert response.json()["error"]["message"] == f"This report has been answered already ({outcome})."
    report_a.refresh_from_db()
    assert report_a.outcome == {"block": "BLOCKED", "dismiss": "DISMISSED"}[answered]


def test_the_conflict_is_told_in_korean_for_a_korean_reader(manager_a, api_as, report_a):
    abuse_report_dismiss(report=report_a, by=manager_a)

    response = api_as(manager_a).post(f"abuse-reports/{report_a.pk}/dismiss", headers=KO)

    assert response.json()["error"]["message"] == "이미 처리된 신고입니다 (기각됨)."


def test_a_call_without_a_number_has_nothing_to_block(manager_a, agent_a, company_a, api_as):
    report = abuse_report(call=call_without_number(company_a, agent_a), by=agent_a, reason="Silent calls")
    client = api_as(manager_a)

    response = client.post(f"abuse-reports/{report.pk}/block", {}, headers=EN)
    in_korean = client.post(f"abuse-reports/{report.pk}/block", {}, headers=KO)

    assert response.status_code == 422 and error_code(response) == "nothing_to_block"
    assert response.json()["error"] == {
        "code": "nothing_to_block",
        "message": "The call came without a number: there is nothing to block.",
        "fields": {},
    }
    assert in_korean.json()["error"]["message"] == "발신 번호가 없는 전화라 차단할 번호가 없습니다."
    assert not BlockedCaller.objects.exists()
    assert AbuseReport.objects.open().count() == 1  # still waiting: it may be dismissed


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"until": "2020-01-01T00:00:00+09:00"}, "This time has already passed."),
        ({"until": "2099-01-01T00:00:00"}, "must be a date and time with its offset, e.g. 2026-12-25T18:00:00+09:00"),
        ({"days": 7}, "Not a field of this request."),
    ],
)
def test_a_bad_end_is_refused_at_its_field(manager_a, api_as, report_a, body, message):
    response = api_as(manager_a).post(f"abuse-reports/{report_a.pk}/block", body, headers=EN)

    assert list(fields(response).values()) == [[message]]
    assert not BlockedCaller.objects.exists()
    assert AbuseReport.objects.open().count() == 1


@pytest.mark.parametrize("answer", ["block", "dismiss"])
def test_another_companys_report_is_not_found(manager_b, api_as, report_a, answer):
    response = api_as(manager_b).post(f"abuse-reports/{report_a.pk}/{answer}", {})

    assert response.status_code == 404 and error_code(response) == "not_found"
    assert AbuseReport.objects.open().count() == 1


@pytest.mark.parametrize("agent", ["agent_a", "agent_b"])
def test_agents_answer_no_report_not_even_their_own(everyone, api_as, report_a, report_b, agent):
    client = api_as(everyone[agent])

    answers = [
        client.post(f"abuse-reports/{report_id}/{answer}", {}, headers=EN)
        for report_id in (report_a.pk, report_b.pk, 987654)
        for answer in ("block", "dismiss")
    ]

    assert [r.status_code for r in answers] == [403] * 6
    assert {r.json()["error"]["message"] for r in answers} == {"Only managers and admins answer abuse reports."}
    assert AbuseReport.objects.open().count() == 2
    assert not BlockedCaller.objects.exists()
