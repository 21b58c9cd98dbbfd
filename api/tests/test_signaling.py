"""/ws/signaling over real WebSockets (the project's ASGI stack: origin check, session auth, bearer tokens)."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from api.services import token_issue, token_revoke, user_deactivate
from api.signaling import SignalingConsumer
from pbx.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


@pytest.fixture(autouse=True)
async def close_worker_thread_connections():
    """The consumer's database calls run in a worker thread; its connection must not outlive the test database."""
    yield
    await database_sync_to_async(connections.close_all)()


async def open_socket(
    *, token=None, session_of=None, protocols=None, browser=None, origin=ORIGIN, path="/ws/signaling"
):
    headers = list(origin)
    if token:
        path += f"{'&' if '?' in path else '?'}token={token}"
    if session_of is not None:
        browser = browser or Client()
        await database_sync_to_async(browser.force_login)(session_of)
        headers.append((b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers, subprotocols=protocols)
    connected, subprotocol = await communicator.connect()
    return communicator, connected, subprotocol


async def signed_in(user):
    """A connected socket of `user` (bearer token in the query string), past its `ready` frame."""
    issued = await database_sync_to_async(token_issue)(user=user)
    communicator, connected, _ = await open_socket(token=issued.token)
    assert connected
    assert (await communicator.receive_json_from())["type"] == "ready"
    return communicator


async def send(communicator, message):
    await communicator.send_to(text_data=json.dumps(message) if not isinstance(message, str) else message)


async def test_offer_reaches_the_addressee_with_from_stamped_by_the_server(agent_a, manager_a):
    caller, callee = await signed_in(agent_a), await signed_in(manager_a)

    await send(caller, {"type": "offer", "to": manager_a.pk, "from": 999, "payload": {"sdp": "v=0…", "call": "c1"}})

    assert await callee.receive_json_from() == {
        "type": "offer",
        "from": agent_a.pk,
        "payload": {"sdp": "v=0…", "call": "c1"},
    }
    assert await caller.receive_nothing()
    await caller.disconnect()
    await callee.disconnect()


async def test_answer_and_ice_reach_every_socket_of_the_addressee_and_nobody_else(agent_a, manager_a, make_user):
    bystander_user = await database_sync_to_async(make_user)(role=Role.AGENT, company=agent_a.company)
    caller = await signed_in(manager_a)
    tab_one, tab_two = await signed_in(agent_a), await signed_in(agent_a)
    bystander = await signed_in(bystander_user)

    await send(caller, {"type": "answer", "to": agent_a.pk, "payload": {"sdp": "answer"}})
    await send(caller, {"type": "ice", "to": agent_a.pk, "payload": {"candidate": "candidate:1 1 UDP …"}})

    for tab in (tab_one, tab_two):
        assert (await tab.receive_json_from())["type"] == "answer"
        assert (await tab.receive_json_from())["payload"] == {"candidate": "candidate:1 1 UDP …"}
    assert await bystander.receive_nothing()
    for socket in (caller, tab_one, tab_two, bystander):
        await socket.disconnect()


async def test_user_of_another_company_cannot_be_reached(agent_a, agent_b):
    outsider, target = await signed_in(agent_b), await signed_in(agent_a)

    await send(outsider, {"type": "offer", "to": agent_a.pk, "payload": {"sdp": "x"}})

    error = await outsider.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "unknown_addressee")
    assert await target.receive_nothing()
    await outsider.disconnect()
    await target.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ('{"type": "ice", "to": 1, "payload": {"x": NaN}}', "bad_json"),
        ("[1, 2]", "bad_message"),
        ({"type": "video", "to": 1, "payload": {}}, "unknown_type"),
        ({"type": "offer", "payload": {}}, "bad_addressee"),
        ({"type": "offer", "to": "2", "payload": {}}, "bad_addressee"),
        ({"type": "offer", "to": True, "payload": {}}, "bad_addressee"),
        ({"type": "offer", "to": 10**30, "payload": {}}, "bad_addressee"),
        ({"type": "offer", "to": 987654321, "payload": {}}, "unknown_addressee"),
        ({"type": "offer", "to": "MANAGER", "payload": "sdp"}, "bad_addressee"),
        ("OVERSIZED", "too_large"),
    ],
)
async def test_bad_frame_gets_an_error_frame_and_the_socket_stays_open(agent_a, manager_a, frame, code):
    sender, callee = await signed_in(agent_a), await signed_in(manager_a)
    if frame == "OVERSIZED":
        frame = {"type": "offer", "to": manager_a.pk, "payload": {"sdp": "x" * 70_000}}

    await send(sender, frame)

    error = await sender.receive_json_from()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    await send(sender, {"type": "ice", "to": manager_a.pk, "payload": {"candidate": "still open"}})
    assert (await callee.receive_json_from())["payload"] == {"candidate": "still open"}
    await sender.disconnect()
    await callee.disconnect()


async def test_payload_that_is_not_an_object_and_messages_to_oneself_are_refused(agent_a):
    sender = await signed_in(agent_a)

    await send(sender, {"type": "offer", "to": agent_a.pk + 1000, "payload": "sdp", "id": "m1"})
    not_object = await sender.receive_json_from()
    await send(sender, {"type": "offer", "to": agent_a.pk, "payload": {}})
    to_self = await sender.receive_json_from()

    assert (not_object["code"], not_object["id"]) == ("bad_payload", "m1")
    assert to_self["code"] == "bad_addressee"
    await sender.disconnect()


async def test_binary_frame_gets_an_error_frame(agent_a):
    sender = await signed_in(agent_a)

    await sender.send_to(bytes_data=b"\x00\x01")

    assert (await sender.receive_json_from())["code"] == "binary_frame"
    await sender.disconnect()


async def test_session_cookie_signs_the_socket_in(agent_a, manager_a):
    by_session, _connected, _ = await open_socket(session_of=manager_a)
    assert (await by_session.receive_json_from()) == {"type": "ready", "user_id": manager_a.pk}
    caller = await signed_in(agent_a)

    await send(caller, {"type": "offer", "to": manager_a.pk, "payload": {"sdp": "s"}})

    assert (await by_session.receive_json_from())["from"] == agent_a.pk
    await by_session.disconnect()
    await caller.disconnect()


async def test_bearer_subprotocol_signs_the_socket_in_for_browsers(agent_a):
    issued = await database_sync_to_async(token_issue)(user=agent_a)

    socket, connected, subprotocol = await open_socket(protocols=["bearer", issued.token])

    assert connected and subprotocol == "bearer"
    assert (await socket.receive_json_from())["user_id"] == agent_a.pk
    await socket.disconnect()


@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_socket_without_a_valid_sign_in_is_refused(db, token):
    socket, connected, code = await open_socket(token=token)

    assert not connected
    assert code == 4401


# --- clients that are not browsers (no Origin) ------------------------------------------------------------------

HOST_ONLY = [(b"host", b"127.0.0.1")]


async def test_a_client_without_origin_signs_in_with_its_token_and_signals(agent_a, manager_a):
    """A desk softphone or a CRM's server sends no Origin: no site can lead it, so its bearer token is enough."""
    softphone_token = await database_sync_to_async(token_issue)(user=agent_a)
    softphone, connected, subprotocol = await open_socket(protocols=["bearer", softphone_token.token], origin=HOST_ONLY)
    browser = await signed_in(manager_a)

    assert connected and subprotocol == "bearer"
    assert await softphone.receive_json_from() == {"type": "ready", "user_id": agent_a.pk}
    await send(softphone, {"type": "offer", "to": manager_a.pk, "payload": {"sdp": "v=0"}})
    assert await browser.receive_json_from() == {"type": "offer", "from": agent_a.pk, "payload": {"sdp": "v=0"}}
    await softphone.disconnect()
    await browser.disconnect()


async def test_a_client_without_origin_is_known_by_its_token_only(agent_a, manager_a):
    issued = await database_sync_to_async(token_issue)(user=agent_a)

    cookie_only, cookie_connected, _ = await open_socket(session_of=manager_a, origin=HOST_ONLY)
    forged, forged_connected, _ = await open_socket(token="forged", session_of=manager_a, origin=HOST_ONLY)
    with_both, _connected, _ = await open_socket(token=issued.token, session_of=manager_a, origin=HOST_ONLY)

    assert not cookie_connected and not forged_connected  # a session cookie alone does not do without Origin
    assert (await with_both.receive_json_from())["user_id"] == agent_a.pk  # the token's user, not the cookie's
    await with_both.disconnect()


async def test_without_origin_only_the_signaling_socket_opens(agent_a):
    issued = await database_sync_to_async(token_issue)(user=agent_a)

    _console, connected, _ = await open_socket(
        token=issued.token, session_of=agent_a, origin=HOST_ONLY, path="/ws/console/?page=agent"
    )

    assert not connected


async def test_a_foreign_origin_is_refused_even_with_a_valid_token(agent_a):
    issued = await database_sync_to_async(token_issue)(user=agent_a)

    _socket, connected, _ = await open_socket(
        token=issued.token, origin=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1")]
    )

    assert not connected


async def test_revoked_token_opens_no_socket(agent_a):
    issued = await database_sync_to_async(token_issue)(user=agent_a)
    await database_sync_to_async(token_revoke)(record=issued.record)

    _socket, connected, _ = await open_socket(token=issued.token)

    assert not connected


async def test_logout_closes_the_socket_opened_with_that_token_at_once(agent_a):
    issued = await database_sync_to_async(token_issue)(user=agent_a)
    socket, _connected, _ = await open_socket(token=issued.token)
    await socket.receive_json_from()
    other_tab = await signed_in(agent_a)

    await database_sync_to_async(token_revoke)(record=issued.record)

    assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}
    assert await other_tab.receive_nothing()
    await other_tab.disconnect()


async def test_deactivated_users_sockets_close_at_once(agent_a, manager_a):
    socket = await signed_in(agent_a)

    await database_sync_to_async(user_deactivate)(actor=manager_a, user=agent_a)

    assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_deactivated_user_cannot_be_reached(agent_a, manager_a, make_user):
    other_agent = await database_sync_to_async(make_user)(role=Role.AGENT, company=agent_a.company)
    sender = await signed_in(other_agent)
    await database_sync_to_async(user_deactivate)(actor=manager_a, user=agent_a)

    await send(sender, {"type": "offer", "to": agent_a.pk, "payload": {}})

    assert (await sender.receive_json_from())["code"] == "unknown_addressee"
    await sender.disconnect()


async def test_signing_out_of_the_console_closes_that_sessions_socket_only(agent_a, manager_a):
    browser = Client()
    by_session, _connected, _ = await open_socket(session_of=manager_a, browser=browser)
    await by_session.receive_json_from()
    by_token = await signed_in(manager_a)

    await database_sync_to_async(browser.post)(reverse("accounts:logout"))

    assert await by_session.receive_output() == {"type": "websocket.close", "code": 4401}
    assert await by_token.receive_nothing()
    await by_token.disconnect()


async def test_socket_of_an_expired_session_closes_at_its_next_message(agent_a, manager_a):
    browser = Client()
    by_session, _connected, _ = await open_socket(session_of=manager_a, browser=browser)
    await by_session.receive_json_from()
    await database_sync_to_async(Session.objects.all().delete)()

    await send(by_session, {"type": "ice", "to": agent_a.pk, "payload": {}})

    assert await by_session.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_a_flood_of_messages_is_cut_off_with_an_error_frame_and_the_socket_stays_open(
    agent_a, manager_a, monkeypatch
):
    monkeypatch.setattr(SignalingConsumer, "burst", 3)
    monkeypatch.setattr(SignalingConsumer, "per_second", 0.001)
    sender, callee = await signed_in(agent_a), await signed_in(manager_a)

    for n in range(4):
        await send(sender, {"type": "ice", "to": manager_a.pk, "payload": {"n": n}})

    assert (await sender.receive_json_from())["code"] == "rate_limited"
    assert [(await callee.receive_json_from())["payload"]["n"] for _ in range(3)] == [0, 1, 2]
    assert await callee.receive_nothing()
    await sender.disconnect()
    await callee.disconnect()
