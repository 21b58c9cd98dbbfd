"""The console in Debian's chromium against a real daphne server: live pushes, htmx swaps, CSV, the language switch.

Screenshots of the agent console and the wallboard (laptop 1440x900 and wall screen 1920x1080) go to
artifacts/screenshots/.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import Role
from accounts.services import user_create
from calls.models import Queue
from companies.models import PauseReason
from companies.services import company_create
from conftest import PASSWORD
from console.tests.browser import CHROMIUM, CHROMIUM_ARGS, start_console_server
from console.tests.simulated_calls import SimulatedCall, abandoned_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
LAPTOP = {"width": 1440, "height": 900}
WALL = {"width": 1920, "height": 1080}
LIVE_TIMEOUT = 5_000  # ms: a push shows within a fraction of a second; this only bounds a failure


@pytest.fixture(scope="session")
def console_server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server, stop = start_console_server()
        yield server
        stop()


@pytest.fixture(scope="module")  # Playwright's loop must be gone before any async test of another module runs
def chromium():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still plain sync code.
    allow = pytest.MonkeyPatch()
    allow.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    allow.undo()


@pytest.fixture
def call_center(transactional_db):
    company = company_create(name="서울 고객센터", phone="02-1234-0000")
    # Korean names are written family name first, as one name.
    manager = user_create(username="jimin", password=PASSWORD, role=Role.MANAGER, company=company, validate=False,
                          first_name="박지민")  # fmt: skip
    agents = [
        user_create(
            username=f"agent{n}",
            password=PASSWORD,
            role=Role.AGENT,
            company=company,
            extension=f"10{n:02d}",
            first_name=name,
            validate=False,
        )  # fmt: skip
        for n, name in enumerate(["김서연", "이도윤", "최하은", "정민준", "강지우", "윤서준"], start=1)
    ]
    queue = Queue.objects.create(company=company, name="일반 문의", number="7000", service_level_seconds=20)
    Queue.objects.create(company=company, name="결제", number="7100", service_level_seconds=30)
    return company, manager, agents, queue


def signed_in_page(chromium, console_server, username, *, viewport=LAPTOP, accept_downloads=False):
    context = chromium.new_context(viewport=viewport, locale="ko-KR", accept_downloads=accept_downloads)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(console_server.url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.csp_errors = errors
    return page


def wait_live(page):
    page.wait_for_selector("[data-live-status].is-live", timeout=LIVE_TIMEOUT)


def shoot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_call_rings_the_agent_and_both_pages_update_live_then_wrapup_ends_ready(console_server, chromium, call_center):
    from playwright.sync_api import expect

    company, manager, agents, queue = call_center
    agent = agents[0]
    # A working day on the wallboard: some answered calls, one abandoned, one agent away.
    for other in agents[1:3]:
        past = SimulatedCall(agent=other, queue=queue, caller="010-1111-2222")
        for step in (past.ring, past.answer, past.hang_up, past.end_wrapup):
            console_server.on_server(step)
    console_server.on_server(lambda: abandoned_call(company=company, queue=queue))

    agent_page = signed_in_page(chromium, console_server, agent.username)
    wallboard = signed_in_page(chromium, console_server, manager.username)
    assert "/console/agent/" in agent_page.url and "/console/wallboard/" in wallboard.url
    wait_live(agent_page)
    wait_live(wallboard)
    row = wallboard.locator(f"#agent-{agent.pk}")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "READY")
    pushes_before = agent_page.evaluate("document.body.dataset.pushes")

    call = SimulatedCall(agent=agent, queue=queue, caller="010-9876-5432", caller_name="홍길동")
    console_server.on_server(call.ring)
    expect(agent_page.locator("#current-call [data-caller]")).to_contain_text("010-9876-5432", timeout=LIVE_TIMEOUT)
    expect(agent_page.locator("#agent-state [data-state]")).to_have_attribute("data-state", "CALLING")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "CALLING", timeout=LIVE_TIMEOUT)

    console_server.on_server(call.answer)
    expect(agent_page.locator("#agent-state [data-state]")).to_have_attribute(
        "data-state", "ON_CALL", timeout=LIVE_TIMEOUT
    )
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "ON_CALL", timeout=LIVE_TIMEOUT)
    shoot(agent_page, "agent-console-on-call-1440x900")
    agent_page.set_viewport_size(WALL)
    shoot(agent_page, "agent-console-on-call-1920x1080")

    console_server.on_server(call.hang_up)
    expect(agent_page.locator("#agent-state [data-state]")).to_have_attribute(
        "data-state", "POST_PROCESSING", timeout=LIVE_TIMEOUT
    )
    expect(agent_page.locator("#my-calls [data-total=answered]")).to_have_text("1", timeout=LIVE_TIMEOUT)
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "POST_PROCESSING", timeout=LIVE_TIMEOUT)
    # The page was never reloaded: every change came over the socket.
    assert agent_page.evaluate("document.body.dataset.pushes") != pushes_before

    agent_page.click("[data-action=ready]")
    expect(agent_page.locator("#agent-state [data-state]")).to_have_attribute("data-state", "READY")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "READY", timeout=LIVE_TIMEOUT)
    expect(wallboard.locator("[data-count-state=READY]")).to_have_text("6")

    # The manager sends one agent to lunch from the wallboard; the counts follow.
    lunch = PauseReason.objects.get(company=company, code="LUNCH")
    other_row = wallboard.locator(f"#agent-{agents[3].pk}")
    other_row.locator("select[name=choice]").select_option(f"AWAY:{lunch.pk}")
    other_row.locator("button").click()
    expect(wallboard.locator(f"#agent-{agents[3].pk} [data-state]")).to_have_attribute("data-state", "AWAY")
    expect(wallboard.locator("[data-count-state=AWAY]")).to_have_text("1")
    expect(wallboard.locator("[data-count-state=READY]")).to_have_text("5")
    expect(wallboard.locator("[data-queue-figures='7000'] [data-answered]")).to_have_text("3", timeout=LIVE_TIMEOUT)

    # An agent added meanwhile (an admin, the API, an import) appears on the open wallboard without a reload.
    newcomer = console_server.on_server(
        lambda: user_create(
            username="agent9",
            password=PASSWORD,
            role=Role.AGENT,
            company=company,
            extension="1009",
            first_name="한지호",
            validate=False,
        )  # fmt: skip
    )
    expect(wallboard.locator(f"#agent-{newcomer.pk}")).to_contain_text("한지호", timeout=LIVE_TIMEOUT)
    expect(wallboard.locator("[data-count-state=READY]")).to_have_text("6")

    shoot(wallboard, "wallboard-1440x900")
    wallboard.set_viewport_size(WALL)
    shoot(wallboard, "wallboard-1920x1080")
    assert not [e for e in agent_page.csp_errors + wallboard.csp_errors if "Content Security Policy" in e]


def test_pause_reason_and_after_this_call_choice(console_server, chromium, call_center):
    from playwright.sync_api import expect

    company, manager, agents, queue = call_center
    agent = agents[1]
    agent_page = signed_in_page(chromium, console_server, agent.username)
    wallboard = signed_in_page(chromium, console_server, manager.username)
    wait_live(agent_page)
    wait_live(wallboard)
    lunch = PauseReason.objects.get(company=company, code="LUNCH")
    meeting = PauseReason.objects.get(company=company, code="MEETING")

    agent_page.select_option("[data-field=away-reason]", str(lunch.pk))
    agent_page.click("[data-action=away]")
    expect(agent_page.locator("#agent-state [data-state]")).to_have_attribute("data-state", "AWAY")
    expect(agent_page.locator("#agent-state .reason")).to_have_text("점심")
    row = wallboard.locator(f"#agent-{agent.pk}")
    expect(row).to_contain_text("점심", timeout=LIVE_TIMEOUT)

    agent_page.click("[data-action=ready]")
    expect(agent_page.locator("#agent-state [data-state]")).to_have_attribute("data-state", "READY")

    call = SimulatedCall(agent=agent, queue=queue)
    console_server.on_server(call.ring)
    console_server.on_server(call.answer)
    expect(agent_page.locator("#agent-state [data-state]")).to_have_attribute(
        "data-state", "ON_CALL", timeout=LIVE_TIMEOUT
    )
    # Choosing saves at once (no button to forget), so a push re-rendering the panel keeps the choice.
    agent_page.select_option("[data-field=after-call]", f"AWAY:{meeting.pk}")
    expect(agent_page.locator("[data-after-call]")).to_contain_text("회의")

    console_server.on_server(call.hang_up)
    console_server.on_server(call.end_wrapup)
    expect(agent_page.locator("#agent-state [data-state]")).to_have_attribute(
        "data-state", "AWAY", timeout=LIVE_TIMEOUT
    )
    expect(agent_page.locator("#agent-state .reason")).to_have_text("회의")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "AWAY", timeout=LIVE_TIMEOUT)
    expect(row).to_contain_text("회의")


def test_call_log_filters_and_csv_export(console_server, chromium, call_center):
    from playwright.sync_api import expect

    company, manager, agents, queue = call_center
    for n, caller in enumerate(["010-2000-0001", "010-2000-0002", "010-2000-0001"]):
        call = SimulatedCall(agent=agents[n], queue=queue, caller=caller)
        for step in (call.ring, call.answer, call.hang_up):
            console_server.on_server(step)
    page = signed_in_page(chromium, console_server, manager.username, accept_downloads=True)
    page.goto(console_server.url + "/calls/")
    expect(page.locator("tr[data-call]")).to_have_count(3)
    page.fill("input[name=phone]", "010-2000-0001")
    page.click("[data-action=filter]")
    expect(page.locator("tr[data-call]")).to_have_count(2)
    page.select_option("select[name=agent]", str(agents[0].pk))
    page.click("[data-action=filter]")
    expect(page.locator("tr[data-call]")).to_have_count(1)

    with page.expect_download() as download_info:
        page.click("[data-action=export]")
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == 2 and "010-2000-0001" in lines[1] and lines[0].startswith("통화")

    page.fill("input[name=date_from]", "2026-05-02")
    page.fill("input[name=date_to]", "2026-05-01")
    page.click("[data-action=filter]")
    expect(page.locator("[data-error-for=date_to]")).to_be_visible()


def test_language_switch_turns_the_console_english_and_back(console_server, chromium, call_center):
    from playwright.sync_api import expect

    company, manager, agents, queue = call_center
    page = signed_in_page(chromium, console_server, agents[2].username)
    expect(page.locator("#agent-state h2")).to_contain_text("내 상태")
    page.click("button[data-lang=en]")
    expect(page.locator("#agent-state h2")).to_contain_text("My state")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Pushed panels follow the language too.
    wait_live(page)
    console_server.on_server(SimulatedCall(agent=agents[2], queue=queue).ring)
    expect(page.locator("#agent-state [data-state]")).to_have_text("Ringing", timeout=LIVE_TIMEOUT)
    page.click("button[data-lang=ko]")
    expect(page.locator("#agent-state h2")).to_contain_text("내 상태")


def test_missed_calls_arrive_live_and_can_be_called_back_from_the_refreshed_list(console_server, chromium, call_center):
    from playwright.sync_api import expect

    from calls.models import Call

    company, manager, agents, queue = call_center
    console_server.on_server(lambda: abandoned_call(company=company, queue=queue, caller="010-5555-0001"))
    page = signed_in_page(chromium, console_server, manager.username)
    page.goto(console_server.url + "/console/missed/")
    wait_live(page)
    expect(page.locator("[data-missed]")).to_have_count(1)

    later = console_server.on_server(lambda: abandoned_call(company=company, queue=queue, caller="010-5555-0002"))
    row = page.locator(f"[data-missed='{later.pk}']")
    expect(row).to_contain_text("010-5555-0002", timeout=LIVE_TIMEOUT)
    expect(page.locator("[data-missed]")).to_have_count(2)

    # The list came over a fetch the socket asked for: its call-back forms carry a valid CSRF token.
    row.locator("[data-action=call-back]").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(f"[data-missed='{later.pk}'] [data-handled]")).to_be_visible()
    assert Call.objects.filter(callback_of_id=later.pk).exists()
    assert not [e for e in page.csp_errors if "Content Security Policy" in e or "htmx" in e.lower()], page.csp_errors


def test_in_wrap_up_the_agent_writes_the_calls_note_and_the_manager_reads_it(console_server, chromium, call_center):
    from playwright.sync_api import expect

    from calls.models import CallNote

    company, manager, agents, queue = call_center
    page = signed_in_page(chromium, console_server, agents[1].username)
    wait_live(page)
    call = SimulatedCall(agent=agents[1], queue=queue, caller="01055550003")
    console_server.on_server(call.ring)
    console_server.on_server(call.answer)
    ended = console_server.on_server(call.hang_up)

    page.locator("#agent-state [data-note-link]").click(timeout=LIVE_TIMEOUT)  # the wrap-up hint's link
    expect(page.locator("dl.facts")).to_contain_text("010-5555-0003")
    page.fill("[data-note] textarea[name=text]", "주소 변경 요청, 내일 회신")
    page.click("[data-action=save-note]")
    expect(page.locator(".message")).to_contain_text("메모를 저장했습니다")
    expect(page.locator("[data-note] textarea")).to_have_value("주소 변경 요청, 내일 회신")
    assert CallNote.objects.get(call_id=ended.pk).updated_by_id == agents[1].pk

    manager_page = signed_in_page(chromium, console_server, manager.username)
    manager_page.goto(f"{console_server.url}/calls/{ended.pk}/")
    expect(manager_page.locator("[data-note] textarea")).to_have_value("주소 변경 요청, 내일 회신")


def test_an_agent_changes_their_own_password_from_the_header(console_server, chromium, call_center):
    from playwright.sync_api import expect

    from accounts.models import User

    company, manager, agents, queue = call_center
    page = signed_in_page(chromium, console_server, agents[2].username)
    page.click("[data-my-account]")
    page.fill("input[name=current]", PASSWORD)
    page.fill("input[name=password1]", "a-long-and-unusual-passphrase-7")
    page.fill("input[name=password2]", "a-long-and-unusual-passphrase-7")
    page.click("[data-action=change-password]")

    expect(page.locator(".message")).to_contain_text("비밀번호를 변경했습니다")
    expect(page.locator("#agent-state")).to_be_visible()  # still signed in, back on the console
    assert User.objects.get(pk=agents[2].pk).check_password("a-long-and-unusual-passphrase-7")
    assert not page.csp_errors, page.csp_errors


def test_a_wallboard_signed_out_in_another_tab_goes_to_the_sign_in_page(console_server, chromium, call_center):
    """The server closes the socket of a signed-out session (4401); the page reloads, and the sign-in page shows
    instead of a wallboard that quietly stopped (or, before, went on) updating."""
    from playwright.sync_api import expect

    company, manager, agents, queue = call_center
    wallboard = signed_in_page(chromium, console_server, manager.username)
    wait_live(wallboard)
    other_tab = wallboard.context.new_page()  # same browser, same session
    other_tab.goto(console_server.url + "/console/wallboard/")
    other_tab.evaluate("document.querySelector('form[action$=\"/accounts/logout/\"]').submit()")
    expect(wallboard).to_have_url(re.compile(r"/accounts/login/"), timeout=LIVE_TIMEOUT)


def test_a_wallboard_whose_session_ended_before_its_socket_opened_goes_to_the_sign_in_page(
    console_server, chromium, call_center
):
    """The page was served while the session held, and the session ended before its socket opened (a reload racing a
    sign-out, a laptop waking after the session expired): the refused socket still says 4401, and the page reloads
    into the sign-in page instead of retrying a socket that can never open."""
    from django.contrib.sessions.models import Session
    from playwright.sync_api import expect

    company, manager, agents, queue = call_center
    wallboard = signed_in_page(chromium, console_server, manager.username)
    wait_live(wallboard)

    def end_the_session_then_connect(socket):
        Session.objects.all().delete()
        socket.connect_to_server()

    wallboard.route_web_socket(re.compile(r"/ws/console/"), end_the_session_then_connect)
    wallboard.reload()
    expect(wallboard).to_have_url(re.compile(r"/accounts/login/"), timeout=LIVE_TIMEOUT)


def test_manager_opens_reports_from_the_nav_and_moves_between_days(console_server, chromium, call_center):
    from playwright.sync_api import expect

    company, manager, agents, queue = call_center
    for agent in agents[:2]:
        call = SimulatedCall(agent=agent, queue=queue, caller="010-3000-0001")
        for step in (call.ring, call.answer, call.hang_up, call.end_wrapup):
            console_server.on_server(step)
    console_server.on_server(lambda: abandoned_call(company=company, queue=queue))

    page = signed_in_page(chromium, console_server, manager.username, accept_downloads=True)
    page.click("nav.topnav >> text=리포트")
    expect(page.locator("h1")).to_contain_text("리포트")
    days = page.locator("[data-report-table=days] tbody tr")
    expect(days).to_have_count(7)  # the last seven days, today last
    today = days.last
    expect(today.locator("[data-offered]")).to_have_text("3")
    expect(today.locator("[data-answered]")).to_have_text("2")
    expect(page.locator("[data-report-table=queues] tr[data-queue='7000'] [data-abandoned]")).to_have_text("1")
    expect(page.locator("[data-report-table=hours] tbody tr")).to_have_count(24)
    assert sum(map(int, page.locator("[data-report-table=hours] [data-offered]").all_inner_texts())) == 3
    first_agent = page.locator(f"[data-report-table=agents] tr[data-agent={agents[0].username}]")
    expect(first_agent).to_contain_text(agents[0].first_name)
    expect(first_agent.locator("[data-occupancy]")).not_to_have_text("–")  # they were ready, rang, talked
    shoot(page, "reports-laptop")

    with page.expect_download() as download_info:
        page.click("[data-export=agents]")
    lines = Path(download_info.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("상담원,아이디") and any(agents[0].username in line for line in lines[1:])

    page.click(f"[data-report-table=agents] tr[data-agent={agents[0].username}] [data-activity-link]")
    # The simulated call rang, was answered, hung up and wrapped up: four changes, the last (READY) still going.
    expect(page.locator("[data-activity] tr[data-change]")).to_have_count(4)
    expect(page.locator("[data-activity] tr[data-change]").last).to_contain_text("진행 중")
    expect(page.locator("[data-total-state=ON_CALL]")).to_be_visible()
    shoot(page, "agent-day-laptop")
    page.go_back()

    page.click("[data-span] >> text=어제")
    expect(page.locator("[data-report-table=days] tbody tr")).to_have_count(1)
    expect(page.locator("[data-report-table=days] tbody tr [data-offered]")).to_have_text("0")
    assert page.csp_errors == []

    page.fill("input[name=date_from]", "2026-05-02")
    page.fill("input[name=date_to]", "2026-05-01")
    page.click("[data-action=report]")  # answered 400, with the mistake at its field
    expect(page.locator("[data-error-for=date_to]")).to_be_visible()


def test_an_agent_away_longer_than_the_reason_allows_turns_red_on_the_wallboard(console_server, chromium, call_center):
    from datetime import timedelta

    from django.utils import timezone
    from playwright.sync_api import expect

    from accounts.models import User
    from accounts.services import Actor, activity_change

    company, manager, agents, queue = call_center
    agent = agents[2]
    lunch = PauseReason.objects.get(company=company, code="LUNCH")
    PauseReason.objects.filter(pk=lunch.pk).update(max_minutes=1)
    activity_change(agent_id=agent.pk, to_state="AWAY", pause_reason=lunch, actor=Actor.person(user=agent, agent=agent))
    # Away for 50 s of the 60 allowed: the pages must turn red by themselves, without a push.
    User.objects.filter(pk=agent.pk).update(activity_changed_at=timezone.now() - timedelta(seconds=50))

    wallboard = signed_in_page(chromium, console_server, manager.username)
    agent_page = signed_in_page(chromium, console_server, agent.username)
    row = wallboard.locator(f"#agent-{agent.pk}")
    expect(row.locator(".timer")).to_have_attribute("data-limit", "60")
    expect(row).not_to_have_class(re.compile("over-limit"))
    expect(row).to_have_class(re.compile("over-limit"), timeout=20_000)
    expect(agent_page.locator("#agent-state .timer")).to_have_class(re.compile("over-limit"), timeout=5_000)
    expect(agent_page.locator("[data-away-limit]")).to_have_text("/ 1:00")
    shoot(wallboard, "wallboard-away-too-long")
    assert wallboard.csp_errors == [] and agent_page.csp_errors == []


def test_manager_sets_business_hours_for_a_queue_and_the_wallboard_follows_them(console_server, chromium, call_center):
    from django.utils import timezone
    from playwright.sync_api import expect

    from calls.models import BusinessHours, ClosedDay

    company, manager, agents, queue = call_center
    page = signed_in_page(chromium, console_server, manager.username)
    page.click("nav >> text=영업시간")
    page.click("text=새 영업시간")
    page.fill("input[name=name]", "평일")
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        page.fill(f"input[name={day}]", "00:00~24:00")
    page.fill("input[name=holidays_year]", "2027")
    page.click("button:has-text('휴무일에 추가')")
    expect(page.locator("textarea[name=closed_days_text]")).to_contain_text("2027-09-15 추석")
    expect(page.locator("input[name=monday]")).to_have_value("00:00~24:00")  # what was typed is kept
    shoot(page, "business-hours-form")
    today = timezone.localdate()
    page.fill("textarea[name=closed_days_text]", f"{today:%Y-%m-%d} 임시 휴무\n2026-13-01 잘못된 날")
    page.click("button:has-text('저장')")
    expect(page.locator("[data-error-for=closed_days_text]")).to_contain_text("2번째 줄")
    page.fill("textarea[name=closed_days_text]", f"{today:%Y-%m-%d} 임시 휴무")
    page.click("button:has-text('저장')")
    row = page.locator("tr[data-hours]", has_text="평일")
    expect(row.locator('[data-open-now="0"]')).to_contain_text("운영 종료")  # today is a closed day
    expect(row).to_contain_text("00:00-24:00")  # read back in one spelling
    shoot(page, "business-hours")

    page.goto(console_server.url + f"/calls/queues/{queue.pk}/")
    page.select_option("select[name=business_hours]", label="평일")
    page.select_option("select[name=overflow_queue]", label="결제 (7100)")
    page.check("input[name=overflow_when_unstaffed]")
    page.click("button:has-text('저장')")
    expect(page.locator("table")).to_contain_text("평일")
    expect(page.locator("td[data-overflow]").first).to_contain_text("→ 결제 7100 · 근무자 없으면 바로")

    page.goto(console_server.url + "/console/wallboard/")
    wait_live(page)
    tile = page.locator(f'[data-queue="{queue.number}"]')
    expect(tile.locator("[data-closed]")).to_contain_text("운영 종료")
    # It opens at midnight, hours away. The closed day is taken back (nothing is pushed for it), then the tile is told
    # its change comes in a second (a copy, whose deadline is new): the panel is read again by itself and the queue
    # shows open. In this order, however slow the machine, the panel is read after the day is gone.
    ClosedDay.objects.filter(hours__in=BusinessHours.objects.filter(company=company)).delete()
    expect(tile.locator("[data-closed]")).to_contain_text("운영 종료")
    page.evaluate(
        """number => { const tile = document.querySelector(`[data-queue="${number}"]`);
                       const copy = tile.cloneNode(true); copy.dataset.refreshIn = "1"; tile.replaceWith(copy); }""",
        queue.number,
    )
    expect(tile.locator("[data-closed]")).to_have_count(0, timeout=5_000)
    # The refused form answered 400 on purpose; nothing else may fail (no CSP refusal, no script error).
    assert [error for error in page.csp_errors if "status of 400" not in error] == []


def test_manager_blocks_an_abusive_callers_number_from_the_call_and_lifts_it(console_server, chromium, call_center):
    from playwright.sync_api import expect

    company, manager, agents, queue = call_center
    call = abandoned_call(company=company, queue=queue, caller="01077778888")
    page = signed_in_page(chromium, console_server, manager.username)
    page.goto(console_server.url + f"/calls/{call.pk}/")
    page.fill("[data-block] input[name=reason]", "폭언")
    page.select_option("[data-block] select[name=days]", "30")
    page.click("[data-block] button")
    expect(page.locator("[data-blocked]")).to_contain_text("폭언")
    page.click("nav >> text=차단 번호")
    row = page.locator("tr[data-blocked-number]")
    expect(row).to_contain_text("010-7777-8888")
    expect(row).to_contain_text(manager.first_name)
    shoot(page, "blocked-numbers")
    # Found however it is written; a number never blocked is said to be so.
    page.fill("[data-blocked-search] input[name=number]", "+82 10 7777 8888")
    page.click("[data-blocked-search] button")
    expect(page.locator("tr[data-blocked-number]")).to_have_count(1)
    page.fill("[data-blocked-search] input[name=number]", "010-1234-0000")
    page.click("[data-blocked-search] button")
    expect(page.locator("table >> text=이 번호는 차단되어 있지 않습니다.")).to_be_visible()
    page.click("[data-blocked-search] >> text=모두 보기")
    row = page.locator("tr[data-blocked-number]")
    row.locator("[data-unblock]").click()
    expect(page.locator("tr[data-blocked-number]")).to_have_count(0)
    assert page.csp_errors == []


def test_an_agent_reports_an_abusive_caller_and_the_manager_blocks_the_number(console_server, chromium, call_center):
    from playwright.sync_api import expect

    from calls.models import BlockedCaller

    company, manager, agents, queue = call_center
    call = SimulatedCall(agent=agents[0], queue=queue)
    call.ring()
    call.answer()
    call.hang_up()
    agent_page = signed_in_page(chromium, console_server, agents[0].username)
    agent_page.goto(console_server.url + f"/calls/{call.call.pk}/")
    agent_page.fill("[data-report-abuse] input[name=reason]", "반복적인 폭언")
    agent_page.click("[data-report-abuse] button")
    expect(agent_page.locator("[data-abuse-report]")).to_contain_text("신고됨")

    page = signed_in_page(chromium, console_server, manager.username)
    page.click("nav >> text=차단 번호")
    report = page.locator("tr[data-abuse-report]")
    expect(report).to_contain_text("반복적인 폭언")
    expect(report).to_contain_text(agents[0].first_name)
    shoot(page, "abuse-reports")
    report.locator("select[name=days]").select_option("7")
    report.locator("button[value=block]").click()
    expect(page.locator("tr[data-abuse-report]")).to_have_count(0)
    expect(page.locator("tr[data-blocked-number]")).to_contain_text("반복적인 폭언")
    assert BlockedCaller.objects.get().blocked_by == manager
    assert agent_page.csp_errors == [] and page.csp_errors == []
