"""/api/v1/blocked-numbers: managers block and unblock numbers for their own company (admins for any), agents are
refused everything; a number blocked again is the same block; bad numbers and ended times are refused at their field
with the service's words. The list is the page's: blocks in force unless ended ones are asked for, one number found
however it is written, newest first a page at a time behind a cursor."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from api.tests.conftest import error_code, fields, walk_pages
from calls.models import BlockedCaller, Call, CallState, Direction, Disposition
from calls.services_blocking import caller_block

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


@pytest.fixture
def everyone(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b, "agent_b": agent_b}


@pytest.fixture
def blocked_a(company_a, manager_a):
    return caller_block(company=company_a, number="010-1111-2222", reason="Abusive", by=manager_a)


@pytest.fixture
def blocked_b(company_b, manager_b):
    return caller_block(company=company_b, number="02-555-6666", reason="Robocaller", by=manager_b)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [blocked["id"] for blocked in response.json()["items"]]


def refused_call(company, number, n, disposition=Disposition.BLOCKED):
    return Call.objects.create(
        company=company,
        direction=Direction.INBOUND,
        caller_number=number,
        dialed_number="5000",
        caller_channel_id=f"refused-{n}",
        state=CallState.ENDED,
        enqueued_at=timezone.now(),
        ended_at=timezone.now(),
        disposition=disposition,
    )


# --- reads ------------------------------------------------------------------------------------------------------


def test_manager_blocks_a_number_written_with_plus_82(manager_a, api_as):
    response = api_as(manager_a).post("blocked-numbers", {"number": "+82 10-1234-5678", "reason": " Abusive "})

    assert response.status_code == 201, response.json()
    body = response.json()
    blocked = BlockedCaller.objects.get(pk=body["id"])
    assert blocked.company_id == manager_a.company_id == body["company_id"]
    assert blocked.number == body["number"] == "01012345678"
    assert body["reason"] == blocked.reason == "Abusive"
    assert body["blocked_by"] == {
        "id": manager_a.pk,
        "username": "manager_a",
        "full_name": manager_a.get_full_name(),
        "extension": None,
    }
    assert body["blocked_at"].endswith("+09:00")
    assert (body["until"], body["in_force"], body["refused_calls"]) == (None, True, 0)


def test_the_number_is_shown_as_digits_and_nothing_encrypted_or_hashed_leaves(manager_a, api_as, blocked_a):
    (item,) = api_as(manager_a).get("blocked-numbers").json()["items"]

    assert set(item) == {
        "id", "company_id", "number", "reason", "blocked_by", "blocked_at", "until", "in_force", "refused_calls",
    }  # fmt: skip
    assert item["number"] == "01011112222"
    assert blocked_a.number_index not in str(item)


def test_managers_see_their_own_companys_blocks_only(manager_a, api_as, blocked_a, blocked_b):
    client = api_as(manager_a)

    listed = client.get("blocked-numbers")
    asked_for_theirs = client.get("blocked-numbers", company_id=blocked_b.company_id)

    assert [b["id"] for b in listed.json()["items"]] == [blocked_a.pk]
    assert asked_for_theirs.json()["items"] == []


def test_admin_sees_every_company_newest_first_and_filters_by_one(admin_user, api_as, blocked_a, blocked_b):
    client = api_as(admin_user)

    assert [b["id"] for b in client.get("blocked-numbers").json()["items"]] == [blocked_b.pk, blocked_a.pk]
    only_b = client.get("blocked-numbers", company_id=blocked_b.company_id).json()["items"]
    assert [b["id"] for b in only_b] == [blocked_b.pk]


def test_a_block_counts_the_calls_it_refused_from_its_number_in_its_company(
    manager_a, company_a, company_b, api_as, blocked_a
):
    refused_call(company_a, "010-1111-2222", 1)
    refused_call(company_a, "+82 10 1111 2222", 2)
    refused_call(company_a, "010-1111-2222", 3, disposition=Disposition.ANSWERED)  # before it was blocked
    refused_call(company_b, "010-1111-2222", 4)  # blocked by the other company too
    refused_call(company_a, "010-9999-0000", 5)

    (item,) = api_as(manager_a).get("blocked-numbers").json()["items"]

    assert item["refused_calls"] == 2


def test_a_block_whose_end_has_passed_is_listed_when_asked_for_but_not_in_force(manager_a, company_a, api_as):
    ended = caller_block(company=company_a, number="01055556666", until=timezone.now() - timedelta(minutes=1))
    until = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    ending = caller_block(company=company_a, number="01077778888", until=until)

    listed = api_as(manager_a).get("blocked-numbers", include_ended="true").json()["items"]

    items = {b["id"]: b for b in listed}
    assert items[ended.pk]["in_force"] is False and items[ended.pk]["blocked_by"] is None
    assert items[ending.pk]["until"] == "2026-12-25T18:00:00+09:00"  # in the company's time zone
    assert items[ending.pk]["in_force"] is (until > timezone.now())


def test_ended_blocks_are_left_out_unless_asked_for(manager_a, company_a, api_as, blocked_a):
    ended = caller_block(company=company_a, number="01055556666", until=timezone.now() - timedelta(minutes=1))
    ending = caller_block(company=company_a, number="01077778888", until=timezone.now() + timedelta(days=1))
    client = api_as(manager_a)

    by_default = ids(client.get("blocked-numbers"))
    asked_for = ids(client.get("blocked-numbers", include_ended="true"))
    not_asked_for = ids(client.get("blocked-numbers", include_ended="false"))

    assert by_default == not_asked_for == [ending.pk, blocked_a.pk]
    assert asked_for == [ending.pk, ended.pk, blocked_a.pk]


@pytest.mark.parametrize("written", ["+82 10-1111-2222", "+82 (0)10 1111 2222", "010.1111.2222", "01011112222"])
def test_a_number_is_found_however_it_is_written(manager_a, company_a, api_as, blocked_a, written):
    caller_block(company=company_a, number="010-1111-3333")

    assert ids(api_as(manager_a).get("blocked-numbers", number=written)) == [blocked_a.pk]


def test_an_ended_block_is_found_by_its_number_only_when_ended_ones_are_asked_for(manager_a, company_a, api_as):
    ended = caller_block(company=company_a, number="01055556666", until=timezone.now() - timedelta(minutes=1))
    client = api_as(manager_a)

    assert ids(client.get("blocked-numbers", number="+82 10 5555 6666")) == []
    assert ids(client.get("blocked-numbers", number="+82 10 5555 6666", include_ended="true")) == [ended.pk]


def test_another_companys_block_is_never_found(manager_a, company_b, api_as, blocked_a, blocked_b):
    same_number_b = caller_block(company=company_b, number="010-1111-2222")
    client = api_as(manager_a)

    assert ids(client.get("blocked-numbers", number="02-555-6666", include_ended="true")) == []
    assert ids(client.get("blocked-numbers", number="+82 2 555 6666", company_id=company_b.pk)) == []
    assert ids(client.get("blocked-numbers", number="+82 10 1111 2222")) == [blocked_a.pk]
    assert same_number_b.pk not in ids(client.get("blocked-numbers", include_ended="true"))


def test_admin_finds_a_number_in_every_company_or_one(admin_user, company_a, company_b, api_as, blocked_a):
    same_number_b = caller_block(company=company_b, number="+82 10 1111 2222")
    client = api_as(admin_user)

    assert ids(client.get("blocked-numbers", number="010-1111-2222")) == [same_number_b.pk, blocked_a.pk]
    assert ids(client.get("blocked-numbers", number="010-1111-2222", company_id=company_a.pk)) == [blocked_a.pk]


# --- pages ------------------------------------------------------------------------------------------------------


def many_blocks(company, n: int, *, same_time_from: int) -> list[int]:
    """n blocks of the company, one a minute apart, the ones from `same_time_from` on blocked at the same moment (so
    only their ids order them); their ids newest first, as the list shows them."""
    start = timezone.now() - timedelta(days=1)
    made = []
    for i in range(n):
        blocked = caller_block(company=company, number=f"0101234{i:04d}")
        at = start + timedelta(minutes=min(i, same_time_from))
        BlockedCaller.objects.filter(pk=blocked.pk).update(blocked_at=at)
        made.append((at, blocked.pk))
    return [pk for _at, pk in sorted(made, reverse=True)]


def test_pages_show_every_block_once_newest_first(manager_a, company_a, api_as):
    newest_first = many_blocks(company_a, 7, same_time_from=3)  # four at one moment, across a page's end

    seen, sizes = walk_pages(api_as(manager_a), "blocked-numbers", limit=3)

    assert seen == newest_first
    assert sizes == [3, 3, 1]


def test_more_blocks_than_the_pages_fifty_take_two_pages(manager_a, company_a, company_b, api_as):
    newest_first = many_blocks(company_a, 53, same_time_from=48)
    caller_block(company=company_a, number="01099990000", until=timezone.now() - timedelta(minutes=1))  # ended
    caller_block(company=company_b, number="01099990001")

    seen, sizes = walk_pages(api_as(manager_a), "blocked-numbers")

    assert seen == newest_first
    assert sizes == [50, 3]


def test_the_last_page_has_no_next_cursor_even_when_full(manager_a, company_a, api_as):
    newest_first = many_blocks(company_a, 4, same_time_from=4)

    seen, sizes = walk_pages(api_as(manager_a), "blocked-numbers", limit=2)

    assert seen == newest_first
    assert sizes == [2, 2]


def test_a_block_made_while_paging_neither_repeats_nor_hides_a_row(manager_a, company_a, api_as):
    newest_first = many_blocks(company_a, 4, same_time_from=4)
    client = api_as(manager_a)
    first = client.get("blocked-numbers", limit=2).json()

    caller_block(company=company_a, number="01055550000")  # newer than every block listed
    rest = client.get("blocked-numbers", limit=2, cursor=first["next_cursor"]).json()

    assert [b["id"] for b in first["items"] + rest["items"]] == newest_first
    assert rest["next_cursor"] is None


def test_a_cursor_keeps_to_the_number_and_the_ended_blocks_asked_for(manager_a, company_a, api_as):
    many_blocks(company_a, 3, same_time_from=3)
    ended = caller_block(company=company_a, number="01055556666", until=timezone.now() - timedelta(minutes=1))
    client = api_as(manager_a)

    seen, sizes = walk_pages(client, "blocked-numbers", limit=1, include_ended="true")
    searched, _sizes = walk_pages(client, "blocked-numbers", limit=1, include_ended="true", number="+82 10-5555-6666")

    assert len(seen) == len(set(seen)) == 4 and ended.pk in seen
    assert searched == [ended.pk]


def test_another_companys_cursor_shows_only_my_blocks(admin_user, manager_b, company_a, api_as, blocked_b):
    many_blocks(company_a, 3, same_time_from=3)
    BlockedCaller.objects.filter(pk=blocked_b.pk).update(blocked_at=timezone.now() - timedelta(days=2))  # oldest
    admin_page = api_as(admin_user).get("blocked-numbers", limit=1).json()
    assert admin_page["items"][0]["company_id"] == company_a.pk

    response = api_as(manager_b).get("blocked-numbers", cursor=admin_page["next_cursor"])

    assert ids(response) == [blocked_b.pk]


@pytest.mark.parametrize("cursor", ["garbage", "W10:abc", "eyJ4IjoxfQ", "a" * 500])
def test_a_bad_cursor_is_a_400_at_its_field(manager_a, api_as, blocked_a, cursor):
    response = api_as(manager_a).get("blocked-numbers", cursor=cursor, headers=EN)

    assert response.status_code == 400 and error_code(response) == "invalid_cursor"
    assert response.json()["error"] == {
        "code": "invalid_cursor",
        "message": "This cursor is not one the API gave out.",
        "fields": {"cursor": ["Invalid cursor."]},
    }


def test_a_cursor_of_the_call_log_is_refused(admin_user, api_as, seeded_calls, blocked_a):
    client = api_as(admin_user)
    calls_cursor = client.get("calls", limit=1).json()["next_cursor"]

    response = client.get("blocked-numbers", cursor=calls_cursor)

    assert response.status_code == 400 and error_code(response) == "invalid_cursor"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"limit": "-1"}, "limit", "must be a whole number"),
        ({"limit": "0"}, "limit", "Must be at least 1."),
        ({"limit": "51"}, "limit", "Must be at most 50."),
        ({"limit": "ten"}, "limit", "must be a whole number"),
        ({"include_ended": "yes"}, "include_ended", "must be true or false"),
        ({"include_ended": "1"}, "include_ended", "must be true or false"),
        ({"number": "abc"}, "number", "Not in the expected format."),
        ({"number": ""}, "number", "At least 1 characters."),
        ({"number": "0" * 41}, "number", "At most 40 characters."),
        ({"cursor": ""}, "cursor", "At least 1 characters."),
    ],
)
def test_bad_list_parameters_are_a_422_at_their_field(manager_a, api_as, query, field, message):
    response = api_as(manager_a).get("blocked-numbers", **query, headers=EN)

    assert fields(response) == {field: [message]}


def test_bad_list_parameters_are_told_in_korean_for_a_korean_reader(manager_a, api_as):
    client = api_as(manager_a)

    negative = client.get("blocked-numbers", limit="-1", headers={"Accept-Language": "ko"})
    too_many = client.get("blocked-numbers", limit="51", headers={"Accept-Language": "ko"})

    assert fields(negative) == {"limit": ["정수여야 합니다"]}
    assert fields(too_many) == {"limit": ["50 이하여야 합니다."]}


def test_blocked_numbers_need_a_token(db):
    from api.tests.conftest import JsonClient

    assert JsonClient().get("blocked-numbers").status_code == 401


# --- writes -----------------------------------------------------------------------------------------------------


def test_blocking_a_blocked_number_again_changes_that_block(manager_a, api_as, blocked_a):
    until = (timezone.now() + timedelta(days=7)).replace(microsecond=0)

    response = api_as(manager_a).post(
        "blocked-numbers", {"number": "+82-10-1111-2222", "reason": "Again", "until": until.isoformat()}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == blocked_a.pk and body["reason"] == "Again"
    assert datetime.fromisoformat(body["until"]) == until
    assert BlockedCaller.objects.get().until == until


def test_blocking_again_without_an_end_blocks_until_unblocked(manager_a, company_a, api_as):
    blocked = caller_block(company=company_a, number="01011112222", until=timezone.now() + timedelta(days=1))

    response = api_as(manager_a).post("blocked-numbers", {"number": "010-1111-2222", "until": None})

    assert response.status_code == 200
    assert (response.json()["until"], response.json()["reason"]) == (None, "")
    blocked.refresh_from_db()
    assert blocked.until is None


def test_the_same_number_may_be_blocked_by_each_company(manager_b, api_as, blocked_a):
    response = api_as(manager_b).post("blocked-numbers", {"number": "010-1111-2222"})

    assert response.status_code == 201
    assert BlockedCaller.objects.count() == 2


@pytest.mark.parametrize("number", ["12", "", "abc", "010-1234-5678-9012-3456-78"])
def test_bad_numbers_are_refused_at_their_field_with_the_services_words(manager_a, api_as, number):
    response = api_as(manager_a).post("blocked-numbers", {"number": number}, headers=EN)

    assert fields(response) == {"number": ["Write a phone number of 3 to 20 digits."]}
    assert not BlockedCaller.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"number": "0" * 41}, "number", "At most 40 characters."),
        ({"number": "01012345678", "reason": "x" * 201}, "reason", "At most 200 characters."),
        ({"number": "01012345678", "until": "2020-01-01T00:00:00+09:00"}, "until", "This time has already passed."),
        ({"number": "01012345678", "until": "2099-01-01T00:00:00"}, "until",
         "must be a date and time with its offset, e.g. 2026-12-25T18:00:00+09:00"),
        ({"number": "01012345678", "until": "2099-02-30T00:00:00+09:00"}, "until",
         "must be a date and time with its offset, e.g. 2026-12-25T18:00:00+09:00"),
        ({"number": "01012345678", "until": 4102444800}, "until",
         "must be a date and time with its offset, e.g. 2026-12-25T18:00:00+09:00"),
        ({"number": "01012345678", "until": "9999-12-31T23:59:59-09:00"}, "until",
         "must be in the year 2100 or before"),
        ({"number": "01012345678", "days": 7}, "days", "Not a field of this request."),
        ({"reason": "Abusive"}, "number", "This field is required."),
    ],
)  # fmt: skip
def test_bad_fields_are_refused_at_their_field(manager_a, api_as, body, field, message):
    response = api_as(manager_a).post("blocked-numbers", body, headers=EN)

    assert fields(response) == {field: [message]}
    assert not BlockedCaller.objects.exists()


def test_a_bad_number_and_an_ended_time_are_both_told(manager_a, api_as):
    response = api_as(manager_a).post(
        "blocked-numbers", {"number": "12", "until": "2020-01-01T00:00:00Z"}, headers={"Accept-Language": "ko"}
    )

    assert fields(response) == {"number": ["3~20자리 전화번호를 입력하세요."], "until": ["이미 지난 시각입니다."]}


def test_admin_names_the_company(admin_user, company_b, api_as):
    client = api_as(admin_user)

    unnamed = client.post("blocked-numbers", {"number": "01012345678"}, headers=EN)
    unknown = client.post("blocked-numbers", {"number": "01012345678", "company_id": 987654}, headers=EN)
    created = client.post("blocked-numbers", {"number": "01012345678", "company_id": company_b.pk})

    assert fields(unnamed) == {"company_id": ["This field is required."]}
    assert fields(unknown) == {"company_id": ["There is no such company."]}
    assert created.status_code == 201 and created.json()["company_id"] == company_b.pk
    assert created.json()["blocked_by"]["id"] == admin_user.pk


def test_managers_block_numbers_only_for_their_own_company(manager_a, company_a, company_b, api_as):
    client = api_as(manager_a)

    theirs = client.post("blocked-numbers", {"number": "01012345678", "company_id": company_b.pk})
    own = client.post("blocked-numbers", {"number": "01012345678", "company_id": company_a.pk})

    assert theirs.status_code == 403 and error_code(theirs) == "permission_denied"
    assert own.status_code == 201
    assert list(BlockedCaller.objects.values_list("company_id", flat=True)) == [company_a.pk]


def test_unblocking_takes_the_numbers_calls_again(manager_a, api_as, blocked_a):
    client = api_as(manager_a)

    response = client.delete(f"blocked-numbers/{blocked_a.pk}")

    assert response.status_code == 204
    assert not BlockedCaller.objects.exists()
    assert client.get("blocked-numbers").json()["items"] == []
    assert client.delete(f"blocked-numbers/{blocked_a.pk}").status_code == 404


def test_admin_unblocks_any_companys_number(admin_user, api_as, blocked_b):
    assert api_as(admin_user).delete(f"blocked-numbers/{blocked_b.pk}").status_code == 204
    assert not BlockedCaller.objects.exists()


@pytest.mark.parametrize("agent", ["agent_a", "agent_b"])
def test_agents_are_refused_every_route_whatever_the_block(everyone, api_as, blocked_a, blocked_b, agent):
    client = api_as(everyone[agent])

    answers = [
        client.get("blocked-numbers"),
        client.post("blocked-numbers", {"number": "01012345678"}),
        client.post("blocked-numbers", {"number": "12"}),
        client.delete(f"blocked-numbers/{blocked_a.pk}"),
        client.delete(f"blocked-numbers/{blocked_b.pk}"),
        client.delete("blocked-numbers/987654"),
    ]

    assert [r.status_code for r in answers] == [403] * 6
    assert {error_code(r) for r in answers} == {"permission_denied"}
    assert BlockedCaller.objects.count() == 2


def test_the_refusal_is_in_korean_for_a_korean_reader(agent_a, api_as):
    response = api_as(agent_a).get("blocked-numbers", headers={"Accept-Language": "ko"})

    assert response.json()["error"]["message"] == "차단 번호는 관리자와 시스템 관리자만 관리할 수 있습니다."


def test_another_companys_block_is_not_found(manager_b, api_as, blocked_a):
    response = api_as(manager_b).delete(f"blocked-numbers/{blocked_a.pk}")

    assert response.status_code == 404 and error_code(response) == "not_found"
    assert BlockedCaller.objects.filter(pk=blocked_a.pk).exists()
