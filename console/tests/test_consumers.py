"""/ws/console/ over the project's real ASGI stack: session auth, origin check, groups, pushed panels, catch-up."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from accounts.services import Actor, activity_change
from accounts.states import ActivityState
from companies.models import PauseReason
from console.tests.simulated_calls import SimulatedCall
from pbx.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


@pytest.fixture(autouse=True)
async def close_worker_thread_connections():
    yield
    await database_sync_to_async(connections.close_all)()


async def signed_in_browser(user) -> Client:
    browser = Client()
    await database_sync_to_async(browser.force_login)(user)
    return browser


async def open_console(user, path, *, origin=ORIGIN, language=None, browser=None):
    headers = list(origin)
    if user is not None:
        browser = browser or await signed_in_browser(user)
        cookie = f"sessionid={browser.cookies['sessionid'].value}"
        if language:
            cookie += f"; django_language={language}"
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_agent_socket_sends_every_panel_on_connect(agent_a):
    socket, connected, _ = await open_console(agent_a, "/ws/console/?page=agent")
    assert connected
    html = await socket.receive_from()
    for panel in ('id="agent-state"', 'id="current-call"', 'id="my-calls"'):
        assert panel in html
    assert 'hx-swap-oob="true"' in html
    await socket.disconnect()


async def refused_with(socket, connected) -> int | None:
    """A refused console socket is accepted and closed at once, so the browser sees the code (a handshake refused
    before accept reaches it as 1006, which htmx retries forever instead of reloading). Nothing is sent first."""
    assert connected
    output = await socket.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    return output.get("code")


async def test_signed_out_socket_is_closed(db):
    socket, connected, _ = await open_console(None, "/ws/console/?page=agent")
    assert await refused_with(socket, connected) == 4401


async def test_foreign_origin_is_refused(agent_a):
    socket, connected, _ = await open_console(
        agent_a, "/ws/console/?page=agent", origin=[(b"origin", b"http://evil.example")]
    )
    assert not connected


async def test_agent_cannot_open_the_wallboard_socket(agent_a):
    socket, connected, _ = await open_console(agent_a, "/ws/console/?page=wallboard")
    assert await refused_with(socket, connected) == 4403


async def test_admin_cannot_open_a_wallboard_of_a_missing_company(admin_user):
    socket, connected, _ = await open_console(admin_user, "/ws/console/?page=wallboard&company=987654")
    assert await refused_with(socket, connected) == 4403


async def test_ringing_call_is_pushed_to_the_agent(agent_a, company_a):
    socket, connected, _ = await open_console(agent_a, "/ws/console/?page=agent")
    await socket.receive_from()
    await database_sync_to_async(SimulatedCall(agent=agent_a, caller="010-3030-4040").ring)()
    seen = ""
    while "010-3030-4040" not in seen or 'data-state="CALLING"' not in seen:
        seen += await socket.receive_from(timeout=5)
    await socket.disconnect()


async def test_state_change_pushes_the_agent_row_to_the_company_wallboard_only(
    manager_a, manager_b, agent_a, company_a
):
    wall_a, connected_a, _ = await open_console(manager_a, "/ws/console/?page=wallboard", language="en")
    wall_b, connected_b, _ = await open_console(manager_b, "/ws/console/?page=wallboard")
    assert connected_a and connected_b
    await wall_a.receive_from()
    await wall_b.receive_from()
    lunch = await database_sync_to_async(PauseReason.objects.get)(company=company_a, code="LUNCH")
    await database_sync_to_async(activity_change)(
        agent_id=agent_a.pk,
        to_state=ActivityState.AWAY,
        actor=Actor.person(user=manager_a, agent=agent_a),
        pause_reason=lunch,
    )
    html = await wall_a.receive_from(timeout=5)
    assert f'id="agent-{agent_a.pk}"' in html and "Lunch" in html and 'data-state="AWAY"' in html
    assert await wall_b.receive_nothing(timeout=0.3)
    await wall_a.disconnect()
    await wall_b.disconnect()


async def test_reconnect_catches_up_with_a_change_made_while_the_socket_was_down(agent_a, company_a):
    socket, _connected, _ = await open_console(agent_a, "/ws/console/?page=agent")
    await socket.receive_from()
    await socket.disconnect()
    await database_sync_to_async(activity_change)(
        agent_id=agent_a.pk, to_state=ActivityState.TRAINING, actor=Actor.person(user=agent_a, agent=agent_a)
    )
    socket, connected, _ = await open_console(agent_a, "/ws/console/?page=agent")
    html = await socket.receive_from()
    assert 'data-state="TRAINING"' in html
    await socket.disconnect()


async def test_agents_joining_and_leaving_a_company_appear_and_vanish_on_its_wallboard(
    manager_a, manager_b, company_a, company_b
):
    from accounts.models import Role
    from accounts.services import user_create
    from accounts.services_users import user_set_active, user_update

    wall_a, _, _ = await open_console(manager_a, "/ws/console/?page=wallboard", language="en")
    wall_b, _, _ = await open_console(manager_b, "/ws/console/?page=wallboard", language="en")
    await wall_a.receive_from()
    await wall_b.receive_from()

    newcomer = await database_sync_to_async(user_create)(
        username="newcomer", password="x", role=Role.AGENT, company=company_a, extension="1777", validate=False,
        first_name="Newcomer",
    )  # fmt: skip
    html = await wall_a.receive_from(timeout=5)
    assert 'id="wallboard-agents"' in html and f'id="agent-{newcomer.pk}"' in html
    assert 'id="figures"' in html and f'data-agent-figures="{newcomer.username}"' in html, "today's row, all zero"
    assert await wall_b.receive_nothing(timeout=0.3)

    await database_sync_to_async(user_update)(user=newcomer, company=company_b)
    left = await wall_a.receive_from(timeout=5)
    joined = await wall_b.receive_from(timeout=5)
    assert 'id="wallboard-agents"' in left and f'id="agent-{newcomer.pk}"' not in left
    assert 'id="figures"' in left and f'data-agent-figures="{newcomer.username}"' not in left
    assert f'id="agent-{newcomer.pk}"' in joined

    await database_sync_to_async(user_set_active)(user=newcomer, active=False, by=manager_b)
    seen = ""
    while 'id="wallboard-agents"' not in seen:
        seen = await wall_b.receive_from(timeout=5)
    assert f'id="agent-{newcomer.pk}"' not in seen, "a disabled agent leaves the wallboard"
    await wall_a.disconnect()
    await wall_b.disconnect()


# --- a socket outlives the sign-in it was opened with only until the server learns of the change -------------------


async def closed_with(socket) -> int | None:
    """The close code the socket got next, skipping pushes already on their way; None if it stayed open."""
    while True:
        try:
            output = await socket.receive_output(timeout=5)
        except TimeoutError:
            return None
        if output["type"] == "websocket.close":
            return output.get("code")


async def test_signing_out_closes_the_sockets_of_that_session_and_no_other(manager_a, agent_a):
    """QA: a signed-out wallboard kept receiving every push (28-35 in 20 s) until its tab was closed."""
    browser = await signed_in_browser(manager_a)
    signed_out, _, _ = await open_console(manager_a, "/ws/console/?page=wallboard", browser=browser)
    other_tab, _, _ = await open_console(manager_a, "/ws/console/?page=wallboard")
    await signed_out.receive_from()
    await other_tab.receive_from()

    await database_sync_to_async(browser.post)("/accounts/logout/")
    assert await closed_with(signed_out) == 4401
    await database_sync_to_async(activity_change)(
        agent_id=agent_a.pk, to_state=ActivityState.TRAINING, actor=Actor.person(user=agent_a, agent=agent_a)
    )
    assert f'id="agent-{agent_a.pk}"' in await other_tab.receive_from(timeout=5), "another session goes on"
    await other_tab.disconnect()


def test_a_sign_out_ends_the_session_before_its_sockets_are_told(client, manager_a):
    """CI flake: a wallboard told of its sign-out reloads at once, and a reload that reached the server before Django's
    own flush (which comes after the signal) was served the wallboard again. A receiver connected after ours runs
    once the sockets were told: the session must already be gone then."""
    from django.contrib.auth.signals import user_logged_out
    from django.contrib.sessions.models import Session

    client.force_login(manager_a)
    key = client.session.session_key
    seen = []

    def after_ours(sender, request, user, **kwargs):
        seen.append(Session.objects.filter(session_key=key).exists())

    user_logged_out.connect(after_ours)
    try:
        client.post("/accounts/logout/")
    finally:
        user_logged_out.disconnect(after_ours)
    assert seen == [False]


async def test_disabling_a_user_closes_their_console_at_once(agent_a, manager_a):
    from accounts.services_users import user_set_active

    socket, _, _ = await open_console(agent_a, "/ws/console/?page=agent")
    await socket.receive_from()
    await database_sync_to_async(user_set_active)(user=agent_a, active=False, by=manager_a)
    assert await closed_with(socket) == 4401


async def test_a_password_reset_closes_the_sockets_of_the_users_sessions(agent_a):
    from accounts.services import user_set_password

    socket, _, _ = await open_console(agent_a, "/ws/console/?page=agent")
    await socket.receive_from()
    await database_sync_to_async(user_set_password)(user=agent_a, password="A-new-Passw0rd-2026")
    assert await closed_with(socket) == 4401


async def test_a_manager_moved_to_another_company_loses_the_old_wallboard(manager_a, company_b):
    """Closed with 4403: the page reloads into the wallboard the manager may see now."""
    from accounts.services_users import user_update

    socket, _, _ = await open_console(manager_a, "/ws/console/?page=wallboard")
    await socket.receive_from()
    await database_sync_to_async(user_update)(user=manager_a, company=company_b)
    assert await closed_with(socket) == 4403


async def test_renaming_a_user_keeps_their_console_open(agent_a, manager_a):
    from accounts.services_users import user_update

    socket, _, _ = await open_console(agent_a, "/ws/console/?page=agent")
    await socket.receive_from()
    await database_sync_to_async(user_update)(user=agent_a, first_name="Renamed")
    await database_sync_to_async(activity_change)(
        agent_id=agent_a.pk, to_state=ActivityState.TRAINING, actor=Actor.person(user=agent_a, agent=agent_a)
    )
    seen = ""
    while 'data-state="TRAINING"' not in seen:
        seen = await socket.receive_from(timeout=5)
    await socket.disconnect()


async def test_an_expired_session_stops_the_pushes_at_the_next_check(agent_a, manager_a, monkeypatch):
    """No message tells of a session that expired (or was changed through the admin): the socket checks its
    session before a push, at most every ACCESS_RECHECK_SECONDS (here: always)."""
    from django.contrib.sessions.models import Session

    from console import consumers

    wallboard, _, _ = await open_console(manager_a, "/ws/console/?page=wallboard")
    await wallboard.receive_from()
    monkeypatch.setattr(consumers, "ACCESS_RECHECK_SECONDS", 0.0)
    await database_sync_to_async(Session.objects.all().delete)()
    await database_sync_to_async(activity_change)(
        agent_id=agent_a.pk, to_state=ActivityState.TRAINING, actor=Actor.person(user=agent_a, agent=agent_a)
    )
    output = await wallboard.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4401}, "closed before anything more was pushed"
