"""The REST side of AriClient over real sockets: against the fake Asterisk, and against bare HTTP servers written here
for what the fake never does (chunked bodies, Connection: close, idle connections cut, answers that never come)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket

import pytest

from telephony.ari import AriClient, AriConfig, AriError, AriUnreachable
from telephony.fake_ari import FakeAsterisk

USER, PASSWORD = "pbx", "secret"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def client_for(port: int, *, password: str = PASSWORD, timeout: float = 5.0, max_connections: int = 32) -> AriClient:
    config = AriConfig("127.0.0.1", port, USER, password, "pbx_ari", request_timeout=timeout)
    return AriClient(config, max_connections=max_connections)


def ok(body: dict | list | None = None, *headers: str) -> bytes:
    """An HTTP/1.1 answer with a Content-Length, as Asterisk writes them."""
    payload = json.dumps(body).encode() if body is not None else b""
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(payload)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class RawServer:
    """A bare HTTP/1.1 server on 127.0.0.1. `answer(number, head)` gives each request's raw reply, or None to close the
    connection without a word. It counts connections and keeps every request head it read."""

    def __init__(self, answer, *, keep_alive: bool = True):
        self.answer = answer
        self.keep_alive = keep_alive
        self.connections = 0
        self.heads: list[bytes] = []
        self.disconnects: asyncio.Queue[int] = asyncio.Queue()
        self.released = asyncio.Event()  # set on stop: answers that wait forever give up
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.released.set()
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")  # the client's commands carry no body
                self.heads.append(head)
                reply = await self.answer(len(self.heads), head)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if not self.keep_alive or b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.disconnects.put_nowait(number)


@pytest.fixture
async def fake():
    asterisk = FakeAsterisk(user=USER, password=PASSWORD)
    await asterisk.start(host="127.0.0.1", port=0)
    yield asterisk
    await asterisk.stop()


@pytest.fixture
async def ari(fake):
    client = client_for(int(fake.base_url.rsplit(":", 1)[1]))
    yield client
    await client.close()


@pytest.fixture
async def raw_servers():
    """Start RawServers through this; each is stopped after the test."""
    started: list[RawServer] = []

    async def start(answer, **options) -> RawServer:
        server = await RawServer(answer, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


async def always_ok(number: int, head: bytes) -> bytes:
    return ok({"n": number})


# ---------------------------------------------------------------------------------------------- the fake Asterisk


async def test_commands_return_the_parsed_json_body(ari):
    info = await ari.info()
    assert info["system"]["version"].startswith("20.")
    assert await ari.channels() == []


async def test_a_204_answer_returns_none(ari):
    created = await ari.bridge_create("bridge-1", name="call-1")
    assert created["id"] == "bridge-1"
    assert await ari.bridge_destroy("bridge-1") is None


async def test_unknown_channel_is_a_404_ari_error(ari):
    with pytest.raises(AriError) as raised:
        await ari.answer("no-such-channel")
    assert (raised.value.status, raised.value.body) == (404, {"message": "Channel not found"})
    assert (raised.value.method, raised.value.path) == ("POST", "/channels/no-such-channel/answer")


async def test_originate_to_an_unregistered_endpoint_is_a_500_with_the_error_body(ari):
    with pytest.raises(AriError) as raised:
        await ari.originate(channel_id="callee-1", endpoint="PJSIP/9999", app_args="dialed", caller_id="", timeout=20)
    assert (raised.value.status, raised.value.body) == (500, {"error": "Allocation failed"})
    assert raised.value.message == "Allocation failed"


async def test_wrong_password_is_a_401_ari_error(fake):
    client = client_for(int(fake.base_url.rsplit(":", 1)[1]), password="wrong")
    try:
        with pytest.raises(AriError) as raised:
            await client.channels()
    finally:
        await client.close()
    assert raised.value.status == 401


async def test_parameters_reach_asterisk_in_the_query_quoted(ari, fake):
    await ari.request("POST", "/bridges", type="mixing", bridgeId="b 1/ü", name="a&b=c+d", flag=True, gone=None)
    assert fake.requests[-1]["query"] == {
        "type": "mixing",
        "bridgeId": "b 1/ü",
        "name": "a&b=c+d",
        "flag": "true",
    }


async def test_concurrent_commands_all_get_their_answer(ari, fake):
    ids = [f"bridge-{n}" for n in range(60)]
    created = await asyncio.gather(*(ari.bridge_create(bridge_id) for bridge_id in ids))
    assert [bridge["id"] for bridge in created] == ids
    assert sorted(bridge["id"] for bridge in await ari.bridges()) == sorted(ids)


async def test_a_command_after_asterisk_restarted_still_succeeds(ari, fake):
    await ari.info()  # leaves a keep-alive connection in the pool
    port = int(fake.base_url.rsplit(":", 1)[1])
    await fake.stop()  # closes that connection from the server's side
    await fake.start(host="127.0.0.1", port=port)
    assert (await ari.info())["system"]["version"].startswith("20.")


# ---------------------------------------------------------------------------------------------- bare servers


async def test_the_request_is_plain_http_with_basic_auth_and_an_empty_body(raw_servers):
    server = await raw_servers(always_ok)
    client = client_for(server.port)
    try:
        await client.answer("caller 1")
        await client.channels()
    finally:
        await client.close()
    host = f"127.0.0.1:{server.port}"
    assert server.heads == [
        f"POST /ari/channels/caller%201/answer HTTP/1.1\r\nHost: {host}\r\nAuthorization: {BASIC}\r\n"
        "Content-Length: 0\r\n\r\n".encode(),
        f"GET /ari/channels HTTP/1.1\r\nHost: {host}\r\nAuthorization: {BASIC}\r\n\r\n".encode(),
    ]


async def test_sequential_requests_reuse_one_connection(raw_servers):
    server = await raw_servers(always_ok)
    client = client_for(server.port)
    try:
        answers = [await client.answer(f"caller-{n}") for n in range(50)]
    finally:
        await client.close()
    assert answers == [{"n": n} for n in range(1, 51)]
    assert server.connections == 1


async def test_concurrent_requests_each_use_their_own_connection_up_to_the_limit(raw_servers):
    four_in_flight = asyncio.Event()
    in_flight = 0

    async def answer_once_four_are_waiting(number: int, head: bytes) -> bytes:
        nonlocal in_flight
        in_flight += 1
        if in_flight == 4:
            four_in_flight.set()
        await four_in_flight.wait()  # only four separate connections can get here at once
        in_flight -= 1
        return ok({"n": number})

    server = await raw_servers(answer_once_four_are_waiting)
    client = client_for(server.port, max_connections=4)
    try:
        answers = await asyncio.gather(*(client.answer(f"caller-{n}") for n in range(12)))
    finally:
        await client.close()
    assert sorted(answer["n"] for answer in answers) == list(range(1, 13))
    assert server.connections == 4


async def test_a_chunked_body_is_joined_and_the_connection_reused(raw_servers):
    async def chunked(number: int, head: bytes) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'6\r\n{"id":\r\n'
            b"a;name=value\r\n"
            b' "caller-1\r\n'
            b'2\r\n"}\r\n'
            b"0\r\nX-Trailer: yes\r\n\r\n"
        )

    server = await raw_servers(chunked)
    client = client_for(server.port)
    try:
        answers = [await client.request("GET", "/channels/caller-1") for _ in range(3)]
    finally:
        await client.close()
    assert answers == [{"id": "caller-1"}] * 3
    assert server.connections == 1


async def test_an_answer_with_connection_close_is_not_reused(raw_servers):
    async def close_after(number: int, head: bytes) -> bytes:
        return ok({"n": number}, "Connection: close")

    server = await raw_servers(close_after)
    client = client_for(server.port)
    try:
        answers = [await client.info() for _ in range(3)]
    finally:
        await client.close()
    assert answers == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert server.connections == 3


async def test_an_idle_connection_the_server_closed_is_replaced(raw_servers):
    server = await raw_servers(always_ok, keep_alive=False)  # closes after each answer, without saying so
    client = client_for(server.port)
    try:
        await client.info()
        await server.disconnects.get()
        assert await client.info() == {"n": 2}
    finally:
        await client.close()
    assert server.connections == 2


async def test_a_request_the_server_dropped_on_a_pooled_connection_is_sent_again_once(raw_servers):
    async def drop_the_second(number: int, head: bytes) -> bytes | None:
        return None if number == 2 else ok({"n": number})  # 2: the server closed as the request went out

    server = await raw_servers(drop_the_second)
    client = client_for(server.port)
    try:
        await client.answer("caller-1")
        assert await client.answer("caller-2") == {"n": 3}
    finally:
        await client.close()
    assert server.connections == 2
    assert [head.split(b" ")[1] for head in server.heads] == [
        b"/ari/channels/caller-1/answer",
        b"/ari/channels/caller-2/answer",
        b"/ari/channels/caller-2/answer",
    ]


async def test_a_server_that_drops_every_request_is_unreachable_after_one_retry(raw_servers):
    async def answer_only_the_first(number: int, head: bytes) -> bytes | None:
        return ok({"n": number}) if number == 1 else None

    server = await raw_servers(answer_only_the_first)
    client = client_for(server.port)
    try:
        await client.info()
        with pytest.raises(AriUnreachable):
            await client.info()
    finally:
        await client.close()
    assert len(server.heads) == 3  # the first, the one on the stale connection, the single retry


async def test_an_answer_cut_mid_body_is_unreachable_and_not_sent_again(raw_servers):
    async def cut(number: int, head: bytes) -> bytes:
        return b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id": '

    server = await raw_servers(cut, keep_alive=False)
    client = client_for(server.port)
    try:
        with pytest.raises(AriUnreachable):
            await client.info()
    finally:
        await client.close()
    assert len(server.heads) == 1


async def test_a_server_that_never_answers_is_unreachable_after_the_timeout(raw_servers):
    async def hang_first(number: int, head: bytes) -> bytes | None:
        if number == 1:
            await server.released.wait()
            return None
        return ok({"n": number})

    server = await raw_servers(hang_first)
    client = client_for(server.port, timeout=0.2)
    try:
        with pytest.raises(AriUnreachable):
            await client.info()
        assert await client.info() == {"n": 2}
    finally:
        await client.close()
    assert server.connections == 2  # the connection that timed out was dropped, not reused


async def test_a_refused_connection_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    client = client_for(port)
    try:
        with pytest.raises(AriUnreachable):
            await client.info()
    finally:
        await client.close()


async def test_close_closes_the_pooled_connections(raw_servers):
    server = await raw_servers(always_ok)
    client = client_for(server.port)
    await client.info()
    await client.close()
    async with asyncio.timeout(5):
        assert await server.disconnects.get() == 1
