"""Blocked numbers: blocking a typed number or a call's, the list with the calls each block refused, unblocking;
managers their own company only, agents not at all."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import BlockedCaller, Call, Disposition
from calls.services_blocking import caller_block
from pbx.encryption import blind_index

pytestmark = pytest.mark.django_db


def a_call(company, number="010-5555-1234", disposition=Disposition.ANSWERED, n=1):
    return Call.objects.create(company=company, caller_number=number, caller_channel_id=f"block-test-{n}",
                               state="ENDED", disposition=disposition)  # fmt: skip


def test_manager_blocks_a_typed_number_for_a_week(client, manager_a, company_a):
    client.force_login(manager_a)
    response = client.post(reverse("calls:blocked"), {"number": "+82 10-5555-1234", "reason": "욕설", "days": "7"})
    assert response.status_code == 302
    blocked = BlockedCaller.objects.get()
    assert (blocked.company, blocked.reason, blocked.blocked_by) == (company_a, "욕설", manager_a)
    assert blocked.number_index == blind_index("01055551234")  # +82 is matched as the domestic 0
    assert timedelta(days=6, hours=23) < blocked.until - timezone.now() <= timedelta(days=7)


def test_a_number_too_short_or_made_of_letters_is_refused_at_the_field(client, manager_a):
    client.force_login(manager_a)
    for typed in ("12", "call me"):
        response = client.post(reverse("calls:blocked"), {"number": typed}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert "3 to 20 digits" in response.content.decode()
    assert not BlockedCaller.objects.exists()


def test_blocking_a_number_twice_updates_the_one_block(client, manager_a, company_a):
    client.force_login(manager_a)
    client.post(reverse("calls:blocked"), {"number": "010-5555-1234", "reason": "first", "days": "1"})
    client.post(reverse("calls:blocked"), {"number": "01055551234", "reason": "again", "days": ""})
    blocked = BlockedCaller.objects.get()
    assert (blocked.reason, blocked.until) == ("again", None)


def test_a_calls_number_is_blocked_from_the_call_page(client, manager_a, company_a):
    call = a_call(company_a)
    client.force_login(manager_a)
    page = client.get(reverse("calls:detail", args=[call.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Refuse calls from this number" in page and "data-blocked>" not in page
    response = client.post(reverse("calls:block", args=[call.pk]), {"reason": "robocall", "days": "30"})
    assert response.status_code == 302
    assert BlockedCaller.objects.get().number_index == call.caller_number_index
    page = client.get(reverse("calls:detail", args=[call.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-blocked>" in page and "robocall" in page


def test_the_list_counts_the_calls_each_block_refused(client, manager_a, company_a, company_b):
    caller_block(company=company_a, number="010-5555-1234", reason="abuse")
    caller_block(company=company_a, number="02-123-4567", until=timezone.now() - timedelta(days=1))
    a_call(company_a, disposition=Disposition.BLOCKED, n=1)
    a_call(company_a, disposition=Disposition.BLOCKED, n=2)
    a_call(company_b, disposition=Disposition.BLOCKED, n=3)  # the same number, refused by another company
    client.force_login(manager_a)
    rows = {row.blocked.reason: row for row in client.get(reverse("calls:blocked") + "?ended=1").context["rows"]}
    assert (rows["abuse"].refused, rows["abuse"].in_force) == (2, True)
    assert (rows[""].refused, rows[""].in_force) == (0, False)
    page = client.get(reverse("calls:blocked")).content.decode()
    assert "010-5555-1234" in page  # shown grouped for people


def test_unblocking_takes_the_calls_again(client, manager_a, company_a):
    blocked = caller_block(company=company_a, number="010-5555-1234")
    client.force_login(manager_a)
    assert client.get(reverse("calls:blocked_delete", args=[blocked.pk])).status_code == 405
    assert client.post(reverse("calls:blocked_delete", args=[blocked.pk])).status_code == 302
    assert not BlockedCaller.objects.exists()


def test_blocks_are_for_managers_of_the_company_only(client, agent_a, manager_b, company_a):
    blocked = caller_block(company=company_a, number="010-5555-1234", reason="abuse")
    call = a_call(company_a)
    client.force_login(agent_a)
    refused = client.get(reverse("calls:blocked"), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 403 and "manage blocked numbers" in refused.content.decode()
    assert client.post(reverse("calls:block", args=[call.pk]), {"reason": "x"}).status_code == 403
    client.force_login(manager_b)
    assert "abuse" not in client.get(reverse("calls:blocked")).content.decode()
    assert client.post(reverse("calls:blocked_delete", args=[blocked.pk])).status_code == 404
    assert client.post(reverse("calls:block", args=[call.pk]), {"reason": "x"}).status_code == 404
    assert BlockedCaller.objects.count() == 1


def test_a_system_admin_picks_the_company_to_block_for(client, admin_user, company_a, company_b):
    client.force_login(admin_user)
    page = client.get(reverse("calls:blocked")).content.decode()
    assert "data-pick-company" in page and "data-block-number" not in page
    response = client.post(reverse("calls:blocked") + f"?company={company_b.pk}", {"number": "010-5555-1234"})
    assert response.status_code == 302
    assert BlockedCaller.objects.get().company == company_b


def test_ended_blocks_are_left_out_until_asked_for(client, manager_a, company_a):
    caller_block(company=company_a, number="010-5555-1234", reason="in force")
    caller_block(company=company_a, number="02-123-4567", reason="over", until=timezone.now() - timedelta(days=1))
    client.force_login(manager_a)
    listing = client.get(reverse("calls:blocked"), HTTP_ACCEPT_LANGUAGE="en")
    assert [row.blocked.reason for row in listing.context["rows"]] == ["in force"]
    assert "Show 1 ended block" in listing.content.decode()
    listing = client.get(reverse("calls:blocked") + "?ended=1", HTTP_ACCEPT_LANGUAGE="en")
    assert {row.blocked.reason for row in listing.context["rows"]} == {"in force", "over"}
    assert "Hide ended blocks" in listing.content.decode()


def test_a_number_is_found_however_it_is_written(client, manager_a, company_a, company_b):
    caller_block(company=company_a, number="010-5555-1234", reason="abuse")
    caller_block(company=company_a, number="010-7777-8888", reason="other")
    caller_block(company=company_b, number="010-5555-1234", reason="another company's")
    client.force_login(manager_a)
    found = client.get(reverse("calls:blocked"), {"number": "+82 10 5555 1234"}, HTTP_ACCEPT_LANGUAGE="en")
    assert [row.blocked.reason for row in found.context["rows"]] == ["abuse"]
    missing = client.get(reverse("calls:blocked"), {"number": "010-1111-2222"}, HTTP_ACCEPT_LANGUAGE="en")
    assert missing.context["rows"] == [] and "This number is not blocked." in missing.content.decode()


def test_the_list_is_paged_newest_first_and_a_bad_page_shows_the_nearest(
    client, admin_user, company_a, django_assert_max_num_queries
):
    start = timezone.now() - timedelta(days=1)
    for n in range(120):
        blocked = caller_block(company=company_a, number=f"010-1000-{n:04d}", reason=f"r{n}")
        BlockedCaller.objects.filter(pk=blocked.pk).update(blocked_at=start + timedelta(minutes=n))
    client.force_login(admin_user)
    url = reverse("calls:blocked")
    first = client.get(url, {"company": company_a.pk}, HTTP_ACCEPT_LANGUAGE="en")
    assert [row.blocked.reason for row in first.context["rows"]][:2] == ["r119", "r118"]
    assert len(first.context["rows"]) == 50
    page = first.content.decode()
    assert "Page 1 of 3" in page and f"?company={company_a.pk}&amp;page=2" in page  # the company stays chosen
    with django_assert_max_num_queries(14):  # the same reads on every page, whatever its rows
        last = client.get(url, {"company": company_a.pk, "page": "3"})
    assert [row.blocked.reason for row in last.context["rows"]][-1] == "r0" and len(last.context["rows"]) == 20
    assert client.get(url, {"page": "99"}).context["listing"].page.number == 3
    assert client.get(url, {"page": "x"}).context["listing"].page.number == 1
