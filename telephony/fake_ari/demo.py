"""Calls for the newcomer demo: callers ring queue numbers and extensions of the fake Asterisk at a steady average
rate, wait, talk and hang up like people do (some give up while waiting, some agents end the call themselves)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field

from telephony.fake_ari.asterisk import FakeAsterisk, InboundCall

logger = logging.getLogger(__name__)


@dataclass
class DemoStats:
    placed: int = 0
    answered: int = 0
    abandoned: int = 0
    refused: int = 0  # ended without being answered (busy, no agent, no answer, Stasis failed)
    in_progress: int = 0

    def line(self) -> str:
        return (
            f"calls placed {self.placed}, answered {self.answered}, abandoned {self.abandoned}, "
            f"not answered {self.refused}, in progress {self.in_progress}"
        )


@dataclass
class DemoTraffic:
    """Places calls to `numbers` (queue numbers or extensions) with exponential gaps averaging 60/calls_per_minute s.

    Each caller waits up to a random patience (a share of them are impatient and give up early: ABANDONED); once
    answered they talk for a random time, then the caller hangs up, or now and then the agent does.
    """

    fake: FakeAsterisk
    numbers: list[str]
    calls_per_minute: float = 6.0
    patience_s: tuple[float, float] = (20.0, 90.0)
    impatient_share: float = 0.15
    impatient_patience_s: tuple[float, float] = (3.0, 15.0)
    talk_s: tuple[float, float] = (10.0, 60.0)
    agent_hangs_up_share: float = 0.3
    seed: int | None = None
    stats: DemoStats = field(default_factory=DemoStats)

    def __post_init__(self):
        if not self.numbers:
            raise ValueError("the demo needs at least one number to call")
        if self.calls_per_minute <= 0:
            raise ValueError("calls_per_minute must be positive")
        self.rng = random.Random(self.seed)
        self._callers: set[asyncio.Task] = set()

    def caller_number(self) -> str:
        if self.rng.random() < 0.8:
            return f"010{self.rng.randint(0, 99_999_999):08d}"  # Korean mobile
        return f"02{self.rng.randint(2_000_000, 9_999_999)}"  # a Seoul landline

    async def run(self, *, calls: int | None = None) -> DemoStats:
        """Place calls until cancelled (or `calls` of them), then wait for the callers still on the line."""
        launched = 0
        try:
            while calls is None or launched < calls:
                launched += 1
                await asyncio.sleep(self.rng.expovariate(self.calls_per_minute / 60.0))
                task = asyncio.create_task(self._one_caller(self.rng.choice(self.numbers)))
                self._callers.add(task)
                task.add_done_callback(self._callers.discard)
            if self._callers:
                await asyncio.gather(*self._callers, return_exceptions=True)
        finally:
            for task in list(self._callers):
                task.cancel()
        return self.stats

    async def _one_caller(self, number: str) -> None:
        call = await self.fake.place_call(exten=number, caller_number=self.caller_number())
        self.stats.placed += 1
        self.stats.in_progress += 1
        try:
            await self._behave(call)
        finally:
            self.stats.in_progress -= 1

    async def _behave(self, call: InboundCall) -> None:
        impatient = self.rng.random() < self.impatient_share
        low, high = self.impatient_patience_s if impatient else self.patience_s
        patience = self.rng.uniform(low, high)
        answered = asyncio.create_task(call.answered.wait())
        ended = asyncio.create_task(call.ended.wait())
        done, pending = await asyncio.wait({answered, ended}, timeout=patience, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if not call.answered.is_set():
            if call.ended.is_set():
                self.stats.refused += 1
            else:
                self.stats.abandoned += 1
                await call.hangup()
            return
        self.stats.answered += 1
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.rng.uniform(*self.talk_s)):
                await call.ended.wait()
        if call.ended.is_set():
            return
        channel = call.channel
        agent_leg = self._agent_leg(call)
        if agent_leg is not None and self.rng.random() < self.agent_hangs_up_share:
            await self.fake.endpoint_hangup(agent_leg)
        elif channel is not None:
            await call.hangup()

    def _agent_leg(self, call: InboundCall) -> str | None:
        """The endpoint of the agent's leg bridged with this caller, if any."""
        channel = call.channel
        if channel is None or channel.bridge_id not in self.fake.bridges:
            return None
        for other_id in self.fake.bridges[channel.bridge_id].channels:
            other = self.fake.channels.get(other_id)
            if other is not None and other.originated:
                return other.endpoint
        return None
