"""The agent console, wallboard, missed calls and pause reasons pages, for each role, in and across companies."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ActivityChange
from accounts.states import ActivityState, ChangeSource
from calls.models import Call, Direction, Disposition
from companies.models import PauseReason
from console.tests.simulated_calls import SimulatedCall, abandoned_call

pytestmark = pytest.mark.django_db


def _reason(company, code=PauseReason.Code.LUNCH):
    return PauseReason.objects.get(company=company, code=code)


def test_home_sends_agents_to_their_console_and_managers_to_the_wallboard(client, agent_a, manager_a):
    client.force_login(agent_a)
    assert client.get("/").url == reverse("console:agent")
    client.force_login(manager_a)
    assert client.get("/").url == reverse("console:wallboard")


def test_agent_console_shows_state_buttons_and_the_company_reasons(client, agent_a):
    client.force_login(agent_a)
    response = client.get(reverse("console:agent"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="agent-state"' in body and 'id="current-call"' in body and 'id="my-calls"' in body
    assert "점심" in body  # Korean by default
    assert "부재 (자동)" not in body and "계정 재활성화" not in body  # the automatic reasons are never offered
    assert 'ws-connect="/ws/console/?page=agent"' in body


def test_managers_and_admins_have_no_agent_console(client, manager_a, admin_user):
    for user in (manager_a, admin_user):
        client.force_login(user)
        assert client.get(reverse("console:agent")).status_code == 403


def test_agent_goes_away_with_a_reason_and_the_audit_log_records_it(client, agent_a, company_a):
    client.force_login(agent_a)
    lunch = _reason(company_a)
    response = client.post(
        reverse("console:agent_state"), {"to_state": "AWAY", "pause_reason": lunch.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="agent-state"' in response.content.decode() and "점심" in response.content.decode()
    agent_a.refresh_from_db()
    assert agent_a.activity_state == ActivityState.AWAY and agent_a.pause_reason == lunch
    change = ActivityChange.objects.get(agent=agent_a)
    assert change.pause_reason == lunch and change.source == ChangeSource.SELF


def test_away_without_a_reason_is_refused_with_a_message(client, agent_a):
    client.force_login(agent_a)
    response = client.post(reverse("console:agent_state"), {"to_state": "AWAY"}, HTTP_HX_REQUEST="true")
    assert 'role="alert"' in response.content.decode()
    agent_a.refresh_from_db()
    assert agent_a.activity_state == ActivityState.READY


def test_agent_cannot_use_another_companys_reason(client, agent_a, company_b):
    client.force_login(agent_a)
    client.post(
        reverse("console:agent_state"),
        {"to_state": "AWAY", "pause_reason": _reason(company_b).pk},
        HTTP_HX_REQUEST="true",
    )
    agent_a.refresh_from_db()
    assert agent_a.activity_state == ActivityState.READY


def test_bad_state_value_is_refused_not_a_500(client, agent_a):
    client.force_login(agent_a)
    response = client.post(reverse("console:agent_state"), {"to_state": "ON_CALL"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    response = client.post(reverse("console:agent_state"), {"to_state": "nonsense"})
    assert response.status_code == 302


def test_ringing_call_shows_caller_queue_and_after_call_choice(client, agent_a, queue_a):
    SimulatedCall(agent=agent_a, queue=queue_a, caller="010-2222-3333").ring()
    client.force_login(agent_a)
    body = client.get(reverse("console:agent")).content.decode()
    assert "010-2222-3333" in body and "Support" in body
    assert 'name="choice"' in body and 'data-field="after-call"' in body  # the "after this call" choice


def test_after_this_call_choice_is_applied_when_wrapup_ends(client, agent_a, queue_a, company_a):
    call = SimulatedCall(agent=agent_a, queue=queue_a)
    call.ring()
    call.answer()
    client.force_login(agent_a)
    lunch = _reason(company_a)
    response = client.post(reverse("console:after_call"), {"choice": f"AWAY:{lunch.pk}"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    call.hang_up()
    agent = call.end_wrapup()
    assert agent.activity_state == ActivityState.AWAY and agent.pause_reason == lunch


def test_my_calls_today_lists_the_call_with_totals(client, agent_a, queue_a):
    call = SimulatedCall(agent=agent_a, queue=queue_a, caller="010-4444-5555")
    call.ring()
    call.answer()
    call.hang_up()
    client.force_login(agent_a)
    response = client.get(reverse("console:agent"))
    assert response.context["day"].answered == 1
    assert "010-4444-5555" in response.content.decode()


def test_wallboard_shows_company_agents_and_figure_definitions(client, manager_a, agent_a, agent_b, queue_a):
    client.force_login(manager_a)
    response = client.get(reverse("console:wallboard"))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="agent-{agent_a.pk}"' in body
    assert f'id="agent-{agent_b.pk}"' not in body
    assert "서비스 레벨" in body or "Service level" in body
    assert 'href="/reports/" data-reports-link' in body


def test_an_admins_wallboard_links_the_same_company_report(client, admin_user, company_b):
    client.force_login(admin_user)
    body = client.get(reverse("console:wallboard"), {"company": company_b.pk}).content.decode()
    assert f'href="/reports/?company={company_b.pk}" data-reports-link' in body


def test_agents_get_no_wallboard(client, agent_a):
    client.force_login(agent_a)
    assert client.get(reverse("console:wallboard")).status_code == 403


def test_admin_picks_a_company_for_the_wallboard(client, admin_user, company_a, company_b, agent_b):
    client.force_login(admin_user)
    assert "Beta Support" in client.get(reverse("console:wallboard")).content.decode()
    body = client.get(reverse("console:wallboard"), {"company": company_b.pk}).content.decode()
    assert f'id="agent-{agent_b.pk}"' in body
    assert client.get(reverse("console:wallboard"), {"company": 999999}).status_code == 404


def test_manager_sets_an_agent_away_and_the_audit_log_names_the_manager(client, manager_a, agent_a, company_a):
    client.force_login(manager_a)
    lunch = _reason(company_a)
    response = client.post(
        reverse("console:wallboard_agent_state", args=[agent_a.pk]),
        {"choice": f"AWAY:{lunch.pk}"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and f'id="agent-{agent_a.pk}"' in response.content.decode()
    change = ActivityChange.objects.get(agent=agent_a)
    assert change.actor == manager_a and change.source == ChangeSource.SUPERVISOR and change.pause_reason == lunch


def test_manager_disables_an_agent(client, manager_a, agent_a):
    client.force_login(manager_a)
    client.post(reverse("console:wallboard_agent_state", args=[agent_a.pk]), {"choice": "DISABLED"})
    agent_a.refresh_from_db()
    assert agent_a.activity_state == ActivityState.DISABLED


def test_manager_cannot_touch_another_companys_agent(client, manager_a, agent_b):
    client.force_login(manager_a)
    response = client.post(reverse("console:wallboard_agent_state", args=[agent_b.pk]), {"choice": "DISABLED"})
    assert response.status_code == 404
    agent_b.refresh_from_db()
    assert agent_b.activity_state == ActivityState.READY


def test_manager_cannot_put_an_agent_on_a_call_away(client, manager_a, agent_a, queue_a, company_a):
    SimulatedCall(agent=agent_a, queue=queue_a).ring()
    client.force_login(manager_a)
    response = client.post(
        reverse("console:wallboard_agent_state", args=[agent_a.pk]),
        {"choice": f"AWAY:{_reason(company_a).pk}"},
        HTTP_HX_REQUEST="true",
    )
    assert 'role="alert"' in response.content.decode()
    agent_a.refresh_from_db()
    assert agent_a.activity_state == ActivityState.CALLING


def test_wallboard_figures_count_answered_and_abandoned_calls(client, manager_a, agent_a, queue_a, company_a):
    call = SimulatedCall(agent=agent_a, queue=queue_a)
    call.ring()
    call.answer()
    call.hang_up()
    abandoned_call(company=company_a, queue=queue_a)
    client.force_login(manager_a)
    figures = client.get(reverse("console:wallboard")).context["figures"]
    ((queue, f),) = figures.per_queue
    assert (f.offered, f.answered, f.abandoned) == (2, 1, 1)
    assert f.abandon_rate == 0.5 and f.service_level == 0.5


def test_missed_calls_list_and_call_back_links_the_new_call(client, manager_a, agent_a, queue_a, company_a):
    missed = abandoned_call(company=company_a, queue=queue_a, caller="01099998888")  # as Asterisk's caller id
    client.force_login(manager_a)
    body = client.get(reverse("console:missed")).content.decode()
    assert "010-9999-8888" in body  # grouped for people
    response = client.post(reverse("console:call_back", args=[missed.pk]), {"agent": agent_a.pk})
    assert response.status_code == 302
    callback = Call.objects.get(callback_of=missed)
    assert callback.direction == Direction.OUTBOUND and callback.agent == agent_a
    assert callback.caller_channel_id.startswith("callback-")
    assert "data-handled" in client.get(reverse("console:missed")).content.decode()


def test_after_hours_callers_are_missed_calls_to_return_but_not_offered_calls(client, manager_a, queue_a, company_a):
    closed = abandoned_call(company=company_a, queue=queue_a, caller="01055554444", disposition=Disposition.CLOSED)
    client.force_login(manager_a)
    body = client.get(reverse("console:missed"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert f'data-missed="{closed.pk}"' in body and "영업시간 외" in body
    page = client.get(reverse("console:wallboard"))
    ((_queue, figures),) = page.context["figures"].per_queue
    assert (figures.offered, figures.after_hours) == (0, 1)
    row = page.content.decode().split(f'data-queue-figures="{queue_a.number}"')[1].split("</tr>")[0]
    assert '<td class="n" data-after-hours>1</td>' in row


def test_the_wallboard_counts_a_caller_who_moved_on_in_the_queue_they_left(client, manager_a, queue_a, company_a):
    from calls.models import Queue

    backup = Queue.objects.create(company=company_a, name="Backup", number="7001")
    call = abandoned_call(company=company_a, queue=queue_a, overflow_to=backup)
    assert (call.queue, call.overflowed_from, call.disposition) == (backup, queue_a, Disposition.ABANDONED)
    client.force_login(manager_a)
    page = client.get(reverse("console:wallboard"))
    figures = {queue.number: figures for queue, figures in page.context["figures"].per_queue}
    assert (figures["7000"].overflowed, figures["7000"].offered) == (1, 0)
    assert (figures["7001"].overflowed, figures["7001"].abandoned) == (0, 1)
    row = page.content.decode().split(f'data-queue-figures="{queue_a.number}"')[1].split("</tr>")[0]
    assert '<td class="n" data-overflowed>1</td>' in row


def test_a_callback_that_did_not_reach_the_customer_leaves_the_call_to_be_returned(client, manager_a, agent_a,
                                                                                     queue_a, company_a):  # fmt: skip
    missed = abandoned_call(company=company_a, queue=queue_a, caller="010-9999-8888")
    client.force_login(manager_a)
    client.post(reverse("console:call_back", args=[missed.pk]), {"agent": agent_a.pk})
    callback = Call.objects.get(callback_of=missed)

    def cell():
        body = client.get(reverse("console:missed")).content.decode()
        row = body[body.index(f'data-missed="{missed.pk}"') :]
        return row[: row.index("</tr>")]

    assert 'data-handled="calling-back"' in cell()
    Call.objects.filter(pk=callback.pk).update(state="ENDED", disposition=Disposition.BUSY)
    assert "data-callback-failed" in cell() and "data-handled" not in cell()
    Call.objects.filter(pk=callback.pk).update(disposition=Disposition.ANSWERED)
    assert 'data-handled="called-back"' in cell()


def test_agent_calls_back_from_their_own_phone(client, agent_a, queue_a, company_a):
    missed = abandoned_call(company=company_a, queue=queue_a)
    client.force_login(agent_a)
    assert str(missed.pk) in client.get(reverse("console:missed")).content.decode()
    client.post(reverse("console:call_back", args=[missed.pk]))
    assert Call.objects.get(callback_of=missed).agent == agent_a


def test_other_company_cannot_see_or_call_back_a_missed_call(client, manager_b, company_a, queue_a):
    missed = abandoned_call(company=company_a, queue=queue_a, caller="010-1212-3434")
    client.force_login(manager_b)
    assert "010-1212-3434" not in client.get(reverse("console:missed")).content.decode()
    assert client.post(reverse("console:call_back", args=[missed.pk])).status_code == 404
    assert not Call.objects.filter(callback_of=missed).exists()


def test_manager_adds_a_pause_reason_and_sees_time_away_per_reason(client, manager_a, agent_a, company_a):
    client.force_login(agent_a)
    client.post(reverse("console:agent_state"), {"to_state": "AWAY", "pause_reason": _reason(company_a).pk})
    client.force_login(manager_a)
    response = client.post(reverse("console:pause_reasons"), {"name_ko": "교육 준비", "name_en": "Prep", "position": 9})
    assert response.status_code == 302
    assert PauseReason.objects.filter(company=company_a, name_en="Prep").exists()
    response = client.get(reverse("console:pause_reasons"))
    row = next(r for r in response.context["report"] if r.agent == agent_a)
    assert _reason(company_a).pk in row.seconds_by_reason


def test_pause_reason_form_says_what_is_wrong(client, manager_a):
    client.force_login(manager_a)
    response = client.post(reverse("console:pause_reasons"), {"name_ko": "점심", "name_en": "", "position": "x"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"name_ko", "name_en", "position"}


@pytest.mark.parametrize("code", [PauseReason.Code.MISSED_OFFER, PauseReason.Code.ENABLED_AGAIN])
def test_automatic_reasons_cannot_be_switched_off(client, manager_a, company_a, code):
    client.force_login(manager_a)
    auto = _reason(company_a, code)
    response = client.post(
        reverse("console:pause_reasons"),
        {"reason_id": auto.pk, "name_ko": auto.name_ko, "name_en": auto.name_en, "position": 5},
    )
    assert response.status_code == 400
    auto.refresh_from_db()
    assert auto.is_active


def test_manager_cannot_edit_another_companys_reason(client, manager_a, company_b):
    client.force_login(manager_a)
    other = _reason(company_b)
    client.post(
        reverse("console:pause_reasons"), {"reason_id": other.pk, "name_ko": "해킹", "name_en": "Hack", "position": 1}
    )
    other.refresh_from_db()
    assert other.name_en == "Lunch"


def test_agents_cannot_open_pause_reasons(client, agent_a):
    client.force_login(agent_a)
    assert client.get(reverse("console:pause_reasons")).status_code == 403


def test_signed_out_visitor_is_sent_to_sign_in(client):
    for name in ("console:agent", "console:wallboard", "console:missed", "console:pause_reasons"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_an_agent_without_an_extension_is_told_and_shown_on_the_wallboard(client, make_user, manager_a, company_a):
    newcomer = make_user(company=company_a, username="newcomer")  # no extension yet: no call can reach them
    client.force_login(newcomer)
    assert "data-no-extension" in client.get(reverse("console:agent")).content.decode()
    client.force_login(manager_a)
    body = client.get(reverse("console:wallboard")).content.decode()
    row = body[body.index('data-agent="newcomer"') :]
    assert "data-no-extension" in row[: row.index("</tr>")]


def test_a_manager_gives_a_reason_a_time_limit_and_the_wallboard_carries_it(client, manager_a, agent_a, company_a):
    lunch = _reason(company_a)
    client.force_login(manager_a)
    fields = {"reason_id": lunch.pk, "name_ko": lunch.name_ko, "name_en": lunch.name_en, "position": lunch.position,
              "is_active": "on"}  # fmt: skip
    assert client.post(reverse("console:pause_reasons"), {**fields, "max_minutes": 60}).status_code == 302
    lunch.refresh_from_db()
    assert lunch.max_minutes == 60
    assert 'data-limit-minutes="60"' in client.get(reverse("console:pause_reasons")).content.decode()
    for wrong in (0, 481, "x"):
        response = client.post(reverse("console:pause_reasons"), {**fields, "max_minutes": wrong})
        assert response.status_code == 400 and "max_minutes" in response.context["form"].errors

    client.force_login(agent_a)
    client.post(reverse("console:agent_state"), {"to_state": "AWAY", "pause_reason": lunch.pk})
    assert 'data-limit="3600"' in client.get(reverse("console:agent")).content.decode()
    client.force_login(manager_a)
    row = client.get(reverse("console:wallboard")).content.decode()
    assert f'id="agent-{agent_a.pk}"' in row and 'data-limit="3600"' in row


def test_without_a_limit_no_timer_is_limited(client, manager_a, agent_a, company_a):
    client.force_login(agent_a)
    client.post(reverse("console:agent_state"), {"to_state": "AWAY", "pause_reason": _reason(company_a).pk})
    client.force_login(manager_a)
    assert "data-limit=" not in client.get(reverse("console:wallboard")).content.decode()


def test_the_wallboard_says_which_queue_is_closed_and_reads_it_again_when_it_opens(client, manager_a, queue_a):
    from calls.models import BusinessHours

    never = BusinessHours.objects.create(company=queue_a.company, name="Closed for works")
    queue_a.business_hours = never
    queue_a.save()
    client.force_login(manager_a)
    page = client.get(reverse("console:wallboard"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    tile = page[page.index(f'data-queue="{queue_a.number}"') :]
    tile = tile[: tile.index("</li>")]
    assert "data-closed" in tile and "운영 종료" in tile and "data-refresh-in" not in tile  # never opens

    BusinessHours.objects.filter(pk=never.pk).update(**dict.fromkeys(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), "00:00-12:00"))  # fmt: skip
    waiting = client.get(reverse("console:wallboard")).context["waiting"]
    [row] = [w for w in waiting if w.queue == queue_a]
    assert row.changes_at is not None and 0 < (row.changes_at - timezone.now()).total_seconds() <= 12 * 3600


def test_the_wallboard_points_to_abusive_callers_agents_reported(client, manager_a, agent_a, queue_a):
    from calls.services_abuse import abuse_report

    call = SimulatedCall(agent=agent_a, queue=queue_a)
    call.ring()
    call.answer()
    call.hang_up()
    client.force_login(manager_a)
    assert "data-open-abuse-reports" not in client.get(reverse("console:wallboard")).content.decode()
    abuse_report(call=call.call, by=agent_a, reason="폭언")
    page = client.get(reverse("console:wallboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 abusive caller reported" in page
