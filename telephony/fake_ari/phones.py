"""Scripted SIP phones behind the fake Asterisk's PJSIP endpoints: what each does when Asterisk sends an INVITE."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phone:
    """One phone's script. Times in milliseconds; None means "never".

    registered: False makes the endpoint offline, so an originate fails at once with 500 "Allocation failed".
    ring: the phone sends 180 Ringing as soon as the INVITE arrives (busy phones answer 486 without ringing).
    answer_ms: 200 OK this long after the INVITE. busy_ms: 486 Busy Here this long after the INVITE.
    talk_ms: after answering, the phone sends BYE this long later.
    """

    registered: bool = True
    ring: bool = True
    answer_ms: int | None = None
    busy_ms: int | None = None
    talk_ms: int | None = None
    answer_ms_max: int | None = None  # answer at a random moment between answer_ms and this

    def answer_delay_ms(self, rng) -> int | None:
        if self.answer_ms is None or self.answer_ms_max is None:
            return self.answer_ms
        return rng.randint(self.answer_ms, max(self.answer_ms, self.answer_ms_max))

    @classmethod
    def answer_after(cls, ms: int = 0) -> Phone:
        return cls(answer_ms=ms)

    @classmethod
    def answer_between(cls, min_ms: int, max_ms: int) -> Phone:
        """A person picking up: somewhere between min_ms and max_ms after it starts ringing."""
        return cls(answer_ms=min_ms, answer_ms_max=max_ms)

    @classmethod
    def answer_then_hangup(cls, answer_ms: int = 0, talk_ms: int = 1000) -> Phone:
        return cls(answer_ms=answer_ms, talk_ms=talk_ms)

    @classmethod
    def busy(cls, after_ms: int = 0) -> Phone:
        return cls(ring=False, busy_ms=after_ms)

    @classmethod
    def never_answer(cls) -> Phone:
        return cls()

    @classmethod
    def unregistered(cls) -> Phone:
        return cls(registered=False)
