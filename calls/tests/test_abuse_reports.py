"""An agent reports an abusive caller from the call's page; a manager of the company blocks the number or dismisses
the report from the blocked numbers page."""

import pytest
from django.urls import reverse

from calls.models import AbuseReport, BlockedCaller, Call, Disposition

pytestmark = pytest.mark.django_db


def agents_call(agent, number="010-4444-3333", n=1):
    return Call.objects.create(company=agent.company, agent=agent, caller_number=number, state="ENDED",
                               caller_channel_id=f"abuse-test-{n}", disposition=Disposition.ANSWERED)  # fmt: skip


def test_an_agent_reports_their_call_and_a_manager_blocks_the_number(client, agent_a, manager_a):
    call = agents_call(agent_a)
    client.force_login(agent_a)
    page = client.get(reverse("calls:detail", args=[call.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-report-abuse" in page and "data-block>" not in page  # agents report; only managers block
    response = client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": "반복적인 욕설"})
    assert response.status_code == 302
    report = AbuseReport.objects.get()
    assert (report.call, report.reported_by, report.company, report.handled_at) == (
        call,
        agent_a,
        agent_a.company,
        None,
    )

    client.force_login(manager_a)
    listing = client.get(reverse("calls:blocked"))
    assert [r.pk for r in listing.context["reports"]] == [report.pk]
    assert "010-4444-3333" in listing.content.decode()
    answer = client.post(reverse("calls:abuse_report_answer", args=[report.pk]), {"answer": "block", "days": "30"})
    assert answer.status_code == 302
    blocked = BlockedCaller.objects.get()
    assert (blocked.reason, blocked.blocked_by, blocked.number_index) == ("반복적인 욕설", manager_a,
                                                                         call.caller_number_index)  # fmt: skip
    report.refresh_from_db()
    assert (report.outcome, report.handled_by) == ("BLOCKED", manager_a)
    assert list(client.get(reverse("calls:blocked")).context["reports"]) == []


def test_a_manager_dismisses_a_report_and_reporting_again_reopens_it(client, agent_a, manager_a):
    call = agents_call(agent_a)
    client.force_login(agent_a)
    client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": "shouting"})
    report = AbuseReport.objects.get()
    client.force_login(manager_a)
    client.post(reverse("calls:abuse_report_answer", args=[report.pk]), {"answer": "dismiss"})
    report.refresh_from_db()
    assert report.outcome == "DISMISSED" and not BlockedCaller.objects.exists()

    client.force_login(agent_a)
    client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": "threats this time"})
    report.refresh_from_db()
    assert (report.reason, report.outcome, report.handled_at) == ("threats this time", "", None)


def test_a_report_needs_a_reason_and_a_call_the_reporter_may_see(client, agent_a, agent_b):
    call = agents_call(agent_a)
    client.force_login(agent_a)
    client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": ""})
    assert not AbuseReport.objects.exists()
    client.force_login(agent_b)  # another company's agent
    assert client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": "x"}).status_code == 404
    assert not AbuseReport.objects.exists()


def test_reports_are_answered_by_managers_of_the_company_only(client, agent_a, manager_b):
    call = agents_call(agent_a)
    client.force_login(agent_a)
    client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": "abuse"})
    report = AbuseReport.objects.get()
    assert client.post(reverse("calls:abuse_report_answer", args=[report.pk]), {"answer": "block"}).status_code == 403
    client.force_login(manager_b)
    assert list(client.get(reverse("calls:blocked")).context["reports"]) == []
    assert client.post(reverse("calls:abuse_report_answer", args=[report.pk]), {"answer": "block"}).status_code == 404
    assert not BlockedCaller.objects.exists()


def test_a_call_without_a_number_cannot_be_blocked_and_says_so(client, agent_a, manager_a):
    call = agents_call(agent_a, number="anonymous")
    client.force_login(agent_a)
    client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": "abuse"})
    client.force_login(manager_a)
    report = AbuseReport.objects.get()
    response = client.post(reverse("calls:abuse_report_answer", args=[report.pk]), {"answer": "block"},
                           HTTP_ACCEPT_LANGUAGE="en", follow=True)  # fmt: skip
    assert "there is nothing to block" in response.content.decode()
    report.refresh_from_db()
    assert report.handled_at is None and not BlockedCaller.objects.exists()


def test_a_report_answered_already_cannot_be_answered_again(client, agent_a, manager_a):
    call = agents_call(agent_a)
    client.force_login(agent_a)
    client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": "abuse"})
    report = AbuseReport.objects.get()
    client.force_login(manager_a)
    client.post(reverse("calls:abuse_report_answer", args=[report.pk]), {"answer": "dismiss"})
    again = client.post(reverse("calls:abuse_report_answer", args=[report.pk]), {"answer": "block"})
    assert again.status_code == 404 and not BlockedCaller.objects.exists()


def test_a_call_of_no_company_cannot_be_reported(client, admin_user):
    call = Call.objects.create(caller_number="010-1111-2222", caller_channel_id="no-company", state="ENDED")
    client.force_login(admin_user)
    response = client.post(reverse("calls:report_abuse", args=[call.pk]), {"reason": "abuse"}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert "belongs to no company" in response.content.decode() and not AbuseReport.objects.exists()


def test_a_report_read_before_another_manager_answered_it_is_not_answered_twice(agent_a, manager_a):
    from calls.services_abuse import ReportAnswered, abuse_report, abuse_report_block, abuse_report_dismiss

    report = abuse_report(call=agents_call(agent_a), by=agent_a, reason="abuse")
    seen_by_second_manager = AbuseReport.objects.get(pk=report.pk)  # read while still open
    abuse_report_dismiss(report=report, by=manager_a)
    with pytest.raises(ReportAnswered, match="answered already"):
        abuse_report_block(report=seen_by_second_manager, by=manager_a)
    assert not BlockedCaller.objects.exists()


def test_open_reports_show_the_oldest_first_and_say_how_many_more(client, agent_a, manager_a, monkeypatch):
    from calls import selectors_blocking
    from calls.services_abuse import abuse_report

    monkeypatch.setattr(selectors_blocking, "OPEN_REPORTS_SHOWN", 2)
    reports = [abuse_report(call=agents_call(agent_a, n=n), by=agent_a, reason=f"abuse {n}") for n in range(3)]
    client.force_login(manager_a)
    listing = client.get(reverse("calls:blocked"), HTTP_ACCEPT_LANGUAGE="en")
    assert [r.pk for r in listing.context["reports"]] == [reports[0].pk, reports[1].pk]
    assert "The oldest 2 of 3 open reports." in listing.content.decode()
