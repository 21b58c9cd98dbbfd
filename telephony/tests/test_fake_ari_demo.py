"""The demo traffic and the command line: calls really flow through a Stasis app, and the CLI serves ARI."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from telephony.fake_ari import FakeAsterisk, Phone
from telephony.fake_ari.__main__ import endpoint_list
from telephony.fake_ari.demo import DemoTraffic

AUTH = {"Authorization": "Basic " + base64.b64encode(b"pbx:secret").decode()}


class TinyQueueApp:
    """Enough of a contact center to take demo calls: each caller gets the first idle agent phone, or waits."""

    def __init__(self, fake: FakeAsterisk, http: aiohttp.ClientSession, agents: list[str]):
        self.fake, self.http = fake, http
        self.idle = list(agents)
        self.waiting: list[str] = []
        self.legs: dict[str, dict] = {}  # caller or agent leg id -> the call
        self.counter = 0

    async def rest(self, method: str, path: str, **query) -> int:
        async with self.http.request(method, f"{self.fake.base_url}/ari{path}", params=query) as response:
            return response.status

    async def run(self, ws) -> None:
        async for message in ws:
            await self.handle(json.loads(message.data))

    async def offer(self) -> None:
        while self.waiting and self.idle:
            caller, agent = self.waiting.pop(0), self.idle.pop(0)
            self.counter += 1
            call = {"caller": caller, "agent": agent, "leg": f"agent-{self.counter}", "bridge": f"br-{self.counter}"}
            self.legs[caller] = self.legs[call["leg"]] = call
            await self.rest("POST", "/channels", endpoint=f"PJSIP/{agent}", app="pbx_ari", appArgs="dialed",
                            channelId=call["leg"])  # fmt: skip

    async def handle(self, event: dict) -> None:
        channel_id = (event.get("channel") or {}).get("id")
        if event["type"] == "StasisStart" and event["args"] != ["dialed"]:
            await self.rest("POST", f"/channels/{channel_id}/ring")
            self.waiting.append(channel_id)
            await self.offer()
        elif event["type"] == "StasisStart":
            call = self.legs.get(channel_id)
            if call is None:  # the caller gave up while this agent's phone was being answered
                await self.rest("DELETE", f"/channels/{channel_id}")
                return
            await self.rest("POST", "/bridges", bridgeId=call["bridge"])
            await self.rest("POST", f"/channels/{call['caller']}/answer")
            await self.rest("POST", f"/bridges/{call['bridge']}/addChannel", channel=f"{call['caller']},{call['leg']}")
        elif event["type"] in ("StasisEnd", "ChannelDestroyed"):
            if channel_id in self.waiting:
                self.waiting.remove(channel_id)
            call = self.legs.pop(channel_id, None)
            if call is None:
                return
            other = call["leg"] if channel_id == call["caller"] else call["caller"]
            if self.legs.pop(other, None) is not None:
                await self.rest("DELETE", f"/channels/{other}")
            await self.rest("DELETE", f"/bridges/{call['bridge']}")
            if channel_id == call["leg"] or other == call["leg"]:
                self.idle.append(call["agent"])
            await self.offer()


async def test_demo_traffic_flows_through_a_stasis_app_with_answers_and_abandons():
    fake = FakeAsterisk(user="pbx", password="secret")
    await fake.start(host="127.0.0.1", port=0)
    for agent in ("1001", "1002"):
        fake.add_endpoint(agent, Phone.answer_between(10, 60))
    try:
        async with aiohttp.ClientSession(headers=AUTH) as http:
            ws = await http.ws_connect(fake.base_url.replace("http", "ws") + "/ari/events?app=pbx_ari")
            app = TinyQueueApp(fake, http, ["1001", "1002"])
            listener = asyncio.create_task(app.run(ws))
            traffic = DemoTraffic(fake, ["5000"], calls_per_minute=1200, patience_s=(0.3, 0.6), impatient_share=0.3,
                                  impatient_patience_s=(0.0, 0.02), talk_s=(0.05, 0.2), seed=3)  # fmt: skip
            stats = await asyncio.wait_for(traffic.run(calls=30), 60)
            await asyncio.wait_for(_until(lambda: not fake.channels and not fake.bridges), 10)
            listener.cancel()
    finally:
        await fake.stop()
    assert stats.placed == 30 and stats.in_progress == 0
    assert stats.answered >= 5, stats.line()
    assert stats.abandoned >= 1, stats.line()
    assert stats.answered + stats.abandoned + stats.refused == 30
    numbers = [call.caller_number for call in fake.calls]
    assert len(set(numbers)) == 30 and all(re.fullmatch(r"010\d{8}|02\d{7}", n) for n in numbers)


def test_endpoint_ranges_on_the_command_line():
    assert endpoint_list("1000-1002,2001") == ["1000", "1001", "1002", "2001"]
    assert endpoint_list("0100-0101") == ["0100", "0101"]
    with pytest.raises(Exception, match="not a range"):
        endpoint_list("1005-1000")


async def test_command_line_serves_ari_with_the_given_endpoints_and_stops_on_sigterm():
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "telephony.fake_ari", "--port", "0", "--user", "pbx", "--password", "secret",
        "--endpoints", "1000-1002", "--demo-queue", "5000", "--rate", "60",
        cwd=Path(__file__).resolve().parents[2], stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        port = re.search(r"http://127\.0\.0\.1:(\d+)/ari", line).group(1)
        async with (
            aiohttp.ClientSession(headers=AUTH) as http,
            http.get(f"http://127.0.0.1:{port}/ari/endpoints") as response,
        ):
            endpoints = await response.json()
        assert [e["resource"] for e in endpoints] == ["1000", "1001", "1002"]
        assert {e["state"] for e in endpoints} == {"online"}
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.01)
