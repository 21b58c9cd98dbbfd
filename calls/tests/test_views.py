"""The call log (filters, keyset pages, detail, CSV) and the queue pages, for each role, in and across companies."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from calls.models import Call, Direction, Disposition, Queue
from calls.services_notes import call_note_save

pytestmark = pytest.mark.django_db


def make_call(*, company, n, agent=None, queue=None, at=None, phone=None, disposition=Disposition.ANSWERED, **fields):
    return Call.objects.create(
        company=company,
        agent=agent,
        queue=queue,
        caller_number=phone or f"010-0000-{n:04d}",
        caller_channel_id=f"test-{company.pk}-{n}",
        state="ENDED",
        disposition=disposition,
        enqueued_at=at or timezone.now() - timedelta(minutes=n),
        wait_seconds=5,
        talk_seconds=60,
        **fields,
    )


def csv_rows(response):
    text = b"".join(response).decode("utf-8-sig")  # consumes the async stream as a WSGI server would
    return list(csv.reader(io.StringIO(text)))


def test_manager_sees_the_company_calls_newest_first(client, manager_a, company_a, company_b):
    make_call(company=company_a, n=1)
    make_call(company=company_a, n=2)
    make_call(company=company_b, n=3)
    client.force_login(manager_a)
    page = client.get(reverse("calls:log")).context["page"]
    assert [c.caller_number for c in page.calls] == ["010-0000-0001", "010-0000-0002"]


def test_agent_sees_only_their_own_calls(client, agent_a, manager_a, company_a):
    make_call(company=company_a, n=1, agent=agent_a)
    make_call(company=company_a, n=2, agent=manager_a)
    client.force_login(agent_a)
    response = client.get(reverse("calls:log"))
    assert [c.agent for c in response.context["page"].calls] == [agent_a]
    assert "agent" not in response.context["form"].fields


def test_admin_sees_every_company(client, admin_user, company_a, company_b):
    make_call(company=company_a, n=1)
    make_call(company=company_b, n=2)
    client.force_login(admin_user)
    assert len(client.get(reverse("calls:log")).context["page"].calls) == 2


def test_exact_phone_filter_finds_the_encrypted_number(client, manager_a, company_a):
    make_call(company=company_a, n=1, phone="010-1234-5678")
    make_call(company=company_a, n=2, phone="010-1234-5679")
    client.force_login(manager_a)
    page = client.get(reverse("calls:log"), {"phone": "010-1234-5678"}).context["page"]
    assert [c.caller_number for c in page.calls] == ["010-1234-5678"]


def test_rows_show_direction_result_and_state_in_the_viewers_language(client, manager_a, company_a):
    make_call(company=company_a, n=1, direction=Direction.OUTBOUND, disposition=Disposition.ABANDONED)
    waiting = make_call(company=company_a, n=2, disposition="")
    Call.objects.filter(pk=waiting.pk).update(state="WAITING")
    client.force_login(manager_a)
    korean = client.get(reverse("calls:log"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert '<span class="pill pill-abandoned">포기</span>' in korean and "<td>발신</td>" in korean
    assert '<span class="pill">큐 대기 중</span>' in korean
    client.cookies["django_language"] = "en"
    english = client.get(reverse("calls:log")).content.decode()
    assert '<span class="pill pill-abandoned">Abandoned</span>' in english and "<td>Outbound</td>" in english


def test_filters_by_queue_disposition_direction_and_days(client, manager_a, company_a, queue_a):
    make_call(company=company_a, n=1, queue=queue_a, disposition=Disposition.ABANDONED)
    make_call(company=company_a, n=2, queue=queue_a)
    make_call(company=company_a, n=3, direction=Direction.OUTBOUND)
    make_call(company=company_a, n=4, at=timezone.now() - timedelta(days=3))
    client.force_login(manager_a)
    log = reverse("calls:log")
    assert len(client.get(log, {"queue": queue_a.pk}).context["page"].calls) == 2
    assert len(client.get(log, {"disposition": "ABANDONED"}).context["page"].calls) == 1
    assert len(client.get(log, {"direction": "OUTBOUND"}).context["page"].calls) == 1
    today = timezone.localdate(timezone=__import__("zoneinfo").ZoneInfo("Asia/Seoul"))
    assert len(client.get(log, {"date_from": today - timedelta(days=1)}).context["page"].calls) == 3


def test_bad_filters_get_field_errors_not_a_500(client, manager_a, company_b):
    client.force_login(manager_a)
    response = client.get(reverse("calls:log"), {"date_from": "2026-13-45", "date_to": "x", "queue": 999999})
    assert response.status_code == 400
    assert {"date_from", "date_to", "queue"} <= set(response.context["form"].errors)


def test_last_day_before_first_day_is_explained(client, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse("calls:log"), {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 400 and "date_to" in response.context["form"].errors


def test_keyset_pages_cover_every_call_once(client, manager_a, company_a):
    for n in range(120):
        make_call(company=company_a, n=n, at=timezone.now() - timedelta(seconds=n // 3))  # ties on time
    client.force_login(manager_a)
    seen, cursor = [], ""
    while True:
        page = client.get(reverse("calls:log"), {"after": cursor} if cursor else {}).context["page"]
        seen += [c.pk for c in page.calls]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == 120 and len(set(seen)) == 120


def test_htmx_next_page_returns_only_rows(client, manager_a, company_a):
    for n in range(60):
        make_call(company=company_a, n=n)
    client.force_login(manager_a)
    cursor = client.get(reverse("calls:log")).context["page"].next_cursor
    response = client.get(reverse("calls:log"), {"after": cursor}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<tr" in body and "<html" not in body and response["Vary"].find("HX-Request") >= 0


def test_forged_cursor_falls_back_to_the_first_page(client, manager_a, company_a):
    make_call(company=company_a, n=1)
    client.force_login(manager_a)
    response = client.get(reverse("calls:log"), {"after": "forged"})
    assert response.status_code == 200 and response.context["cursor_error"]


def test_older_calls_asked_for_with_a_forged_cursor_append_no_rows(client, manager_a, company_a):
    make_call(company=company_a, n=1)
    client.force_login(manager_a)
    response = client.get(reverse("calls:log"), {"after": "forged"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "data-stale-page" in body and "data-call=" not in body


def test_call_detail_puts_timeline_entries_and_the_hangup_cause_in_words(client, manager_a, company_a):
    call = make_call(company=company_a, n=1, hangup_by="AGENT", hangup_cause=17, hangup_cause_text="User busy")
    call.events.create(at=timezone.now(), kind="ring_timeout", key="k1")
    client.force_login(manager_a)
    body = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "제한 시간 안에 아무도 받지 않음" in body and "ring_timeout" in body  # the words, and the recorded kind
    assert "(통화 중 신호)" in body and "User busy" not in body
    Call.objects.filter(pk=call.pk).update(hangup_cause=None, hangup_cause_text="Maximum wait exceeded")
    body = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "(최대 대기 시간 도달)" in body and "Maximum wait exceeded" not in body


def test_call_detail_shows_timeline_and_refuses_other_company(client, manager_a, manager_b, company_a):
    call = make_call(company=company_a, n=1)
    call.events.create(at=timezone.now(), kind="StasisStart", key="k1")
    client.force_login(manager_a)
    assert "StasisStart" in client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    client.force_login(manager_b)
    response = client.get(reverse("calls:detail", args=[call.pk]))
    assert response.status_code == 404 and b"404" in response.content


def test_csv_export_streams_the_filtered_set_in_company_time(client, manager_a, company_a, company_b, queue_a):
    make_call(company=company_a, n=1, queue=queue_a, phone="010-5555-0001")
    make_call(company=company_a, n=2, disposition=Disposition.ABANDONED)
    make_call(company=company_b, n=3)
    client.force_login(manager_a)
    response = client.get(reverse("calls:export"), {"queue": queue_a.pk})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert len(rows) == 2 and rows[1][5] == "010-5555-0001"
    assert rows[0][0] == "통화"  # Korean headers by default


def test_csv_export_carries_each_calls_note_in_its_last_column(client, manager_a, company_a):
    noted, plain = make_call(company=company_a, n=1), make_call(company=company_a, n=2)
    call_note_save(call=noted, text="=환불 요청\n내일 회신", by=manager_a)
    client.force_login(manager_a)

    header, *rows = csv_rows(client.get(reverse("calls:export")))

    assert header[-1] == "메모"
    # A note is somebody's text: one that starts like a formula is made plain text, as names are.
    assert {row[0]: row[-1] for row in rows} == {str(noted.pk): "'=환불 요청\n내일 회신", str(plain.pk): ""}


def test_csv_export_of_an_agent_holds_only_their_calls(client, agent_a, company_a):
    make_call(company=company_a, n=1, agent=agent_a)
    make_call(company=company_a, n=2)
    client.force_login(agent_a)
    assert len(csv_rows(client.get(reverse("calls:export")))) == 2


def test_csv_export_never_hands_a_spreadsheet_a_formula(client, manager_a, company_a, agent_a):
    User.objects.filter(pk=agent_a.pk).update(first_name='=HYPERLINK("http://evil.example","x")', last_name="")
    make_call(company=company_a, n=1, agent=agent_a, phone="+82-10-1234-5678", caller_name="@SUM(1+1)")
    client.force_login(manager_a)
    [_header, row] = csv_rows(client.get(reverse("calls:export")))
    assert '\'=HYPERLINK("http://evil.example","x")' in row and "'@SUM(1+1)" in row
    assert "+82-10-1234-5678" in row  # a phone number stays as it is


def test_manager_creates_a_queue_with_member_agents(client, manager_a, agent_a, agent_b):
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:queue_new"),
        {
            "name": "Billing",
            "number": "7100",
            "ring_timeout_seconds": 15,
            "wrapup_seconds": 10,
            "max_wait_seconds": 300,
            "service_level_seconds": 20,
            "members": [agent_a.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    queue = Queue.objects.get(number="7100")
    assert queue.company == manager_a.company and list(queue.members.all()) == [agent_a]


def test_queue_form_refuses_bad_values_and_foreign_agents(client, manager_a, agent_b):
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:queue_new"),
        {"name": "", "number": "x1", "ring_timeout_seconds": 1, "wrapup_seconds": 10, "max_wait_seconds": 300,
         "service_level_seconds": 20, "members": [agent_b.pk]},
    )  # fmt: skip
    assert response.status_code == 400
    assert {"name", "number", "ring_timeout_seconds", "members"} <= set(response.context["form"].errors)


def test_a_queue_number_another_queue_has_is_refused_in_plain_words(client, manager_b, queue_a):
    client.force_login(manager_b)
    response = client.post(
        reverse("calls:queue_new"),
        {"name": "Other", "number": queue_a.number, "ring_timeout_seconds": 15, "wrapup_seconds": 10,
         "max_wait_seconds": 300, "service_level_seconds": 20, "is_active": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["number"] == ["Another queue already has this number."]


def _queue_fields(name: str, number: str) -> dict:
    return {"name": name, "number": number, "ring_timeout_seconds": 15, "wrapup_seconds": 10,
            "max_wait_seconds": 300, "service_level_seconds": 20, "is_active": "on"}  # fmt: skip


def test_a_queue_name_the_company_already_has_is_refused_in_any_case(client, manager_a, manager_b, queue_a):
    client.force_login(manager_a)
    response = client.post(reverse("calls:queue_new"), _queue_fields("SUPPORT", "7101"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["Another queue of this company already has this name."]
    assert not Queue.objects.filter(number="7101").exists()

    # Saving a queue under its own name is no clash; another company may use the name too.
    edit = client.post(reverse("calls:queue_edit", args=[queue_a.pk]), _queue_fields("Support", queue_a.number))
    assert edit.status_code == 302
    client.force_login(manager_b)
    assert client.post(reverse("calls:queue_new"), _queue_fields("Support", "7102")).status_code == 302
    assert Queue.objects.filter(name="Support").count() == 2


def test_queues_are_refused_to_agents_and_other_companies(client, agent_a, manager_b, queue_a):
    client.force_login(agent_a)
    assert client.get(reverse("calls:queues")).status_code == 403
    client.force_login(manager_b)
    assert client.get(reverse("calls:queue_edit", args=[queue_a.pk])).status_code == 404
    assert "7000" not in client.get(reverse("calls:queues")).content.decode()


def test_admin_filters_by_company_and_then_by_its_agents(client, admin_user, company_a, company_b, agent_a, agent_b):
    make_call(company=company_a, n=1, agent=agent_a)
    make_call(company=company_b, n=2, agent=agent_b)
    client.force_login(admin_user)
    form = client.get(reverse("calls:log")).context["form"]
    assert not form.fields["agent"].queryset.exists()  # no select of every agent of every company
    response = client.get(reverse("calls:log"), {"company": company_b.pk, "agent": agent_b.pk})
    assert [c.agent for c in response.context["page"].calls] == [agent_b]
    response = client.get(reverse("calls:log"), {"company": company_a.pk, "agent": agent_b.pk})
    assert response.status_code == 400 and "agent" in response.context["form"].errors


def test_a_queue_number_in_another_companys_range_does_not_name_that_company(client, manager_a, company_b):
    """QA: the refusal named the other company and its range, so probing numbers mapped every tenant."""
    Company = type(company_b)
    Company.objects.filter(pk=company_b.pk).update(extension_start="2000", extension_end="2099")
    client.force_login(manager_a)
    response = client.post(
        reverse("calls:queue_new"),
        {"name": "Probe", "number": "2050", "ring_timeout_seconds": 15, "wrapup_seconds": 10,
         "max_wait_seconds": 300, "service_level_seconds": 20, "is_active": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["number"] == ["This number lies in another company's extensions."]


def test_the_admin_refuses_a_queue_name_the_company_has_once_and_plainly(client, admin_user, queue_a):
    client.force_login(admin_user)
    fields = {**_queue_fields("support", "7103"), "company": queue_a.company_id}
    response = client.post(reverse("admin:calls_queue_add"), fields, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Another queue of this company already has this name.") == 1 and "Constraint" not in page
    assert not Queue.objects.filter(number="7103").exists()


def test_a_queue_overflows_to_another_queue_of_its_own_company_never_itself(client, manager_a, queue_a, queue_b):
    backup = Queue.objects.create(company=queue_a.company, name="Backup", number="7001")
    client.force_login(manager_a)
    form = client.get(reverse("calls:queue_edit", args=[queue_a.pk])).context["form"]
    assert list(form.fields["overflow_queue"].queryset) == [backup]  # not itself, not another company's
    fields = {"name": "Support", "number": "7000", "ring_timeout_seconds": 15, "wrapup_seconds": 10,
              "max_wait_seconds": 60, "service_level_seconds": 20, "is_active": "on"}  # fmt: skip
    for wrong in (queue_a.pk, queue_b.pk):
        refused = client.post(reverse("calls:queue_edit", args=[queue_a.pk]), {**fields, "overflow_queue": wrong})
        assert refused.status_code == 400 and "overflow_queue" in refused.context["form"].errors
    saved = client.post(reverse("calls:queue_edit", args=[queue_a.pk]), {**fields, "overflow_queue": backup.pk})
    assert saved.status_code == 302 and Queue.objects.get(pk=queue_a.pk).overflow_queue == backup
    listing = client.get(reverse("calls:queues"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "→ Backup" in listing


def test_the_model_refuses_an_overflow_to_itself_or_another_company(queue_a, queue_b):
    from django.core.exceptions import ValidationError

    for wrong in (queue_a, queue_b):
        queue_a.overflow_queue = wrong
        with pytest.raises(ValidationError) as refused:
            queue_a.full_clean()
        assert "overflow_queue" in refused.value.message_dict


def test_the_call_page_says_which_queue_the_caller_moved_on_from(client, manager_a, company_a, queue_a):
    backup = Queue.objects.create(company=company_a, name="Backup", number="7001")
    call = make_call(company=company_a, n=1)
    Call.objects.filter(pk=call.pk).update(queue=backup, overflowed_from=queue_a)
    call.events.create(at=timezone.now(), kind="overflowed", key="o1")
    client.force_login(manager_a)
    body = client.get(reverse("calls:detail", args=[call.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "moved on from Support (7000)" in body
    assert "The caller moved on to the overflow queue" in body


def test_the_admin_lists_where_queues_overflow_and_refuses_another_companys(client, admin_user, queue_a, queue_b):
    client.force_login(admin_user)
    fields = {**_queue_fields("Spill", "7104"), "company": queue_a.company_id, "strategy": "LONGEST_IDLE",
              "overflow_queue": queue_b.pk}  # fmt: skip
    response = client.post(reverse("admin:calls_queue_add"), fields, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "That queue belongs to another company." in response.content.decode()
    saved = client.post(reverse("admin:calls_queue_add"), {**fields, "overflow_queue": queue_a.pk})
    assert saved.status_code == 302
    assert Queue.objects.get(number="7104").overflow_queue == queue_a
    assert client.get(reverse("admin:calls_queue_changelist")).status_code == 200
