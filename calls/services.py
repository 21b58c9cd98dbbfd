"""Every write to call records. Each is idempotent: an event applied twice (after a reconnect, say) changes nothing.

A call is found by its caller channel id (`Call.caller_channel_id`, unique); an offer by the channel id we chose for
the agent's leg before ringing it (`Offer.channel_id`, unique).
"""

from datetime import UTC, datetime
from functools import partial

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from calls.live import publish_call_changed
from calls.models import Call, CallEvent, CallState, Direction, Offer, OfferResult
from pbx.encryption import blind_index
from pbx.row_inserts import insert_rows_statement, insert_under_parents_statements
from pbx.row_source import Writes, run_writes
from pbx.row_updates import update_each_statements, update_statement

# Nested inside the telephony writer's batch transaction: no savepoint per call, which would double the round trips.
atomic = transaction.atomic(savepoint=False)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


@atomic
def call_start(
    *,
    caller_channel_id: str,
    dialed_number: str,
    caller_number: str,
    caller_name: str,
    company_id: int | None,
    queue_id: int | None,
    agent_id: int | None,
    at: datetime,
    direction: str = Direction.INBOUND,
    linkedid: str = "",
) -> Call:
    """The call's record, created once: a second start for the same caller channel changes nothing."""
    start = {
        "caller_channel_id": caller_channel_id, "dialed_number": dialed_number, "caller_number": caller_number,
        "caller_name": caller_name, "company_id": company_id, "queue_id": queue_id, "agent_id": agent_id, "at": at,
        "direction": direction, "linkedid": linkedid,
    }  # fmt: skip
    calls_start([start])
    return Call.objects.get(caller_channel_id=caller_channel_id)


@atomic
def calls_start(starts: list[dict]) -> None:
    """call_start for many calls (dicts of its arguments) in one INSERT … ON CONFLICT: idempotent without a read."""
    run_writes(transaction.get_connection(), [calls_start_writes(starts)])


def calls_start_writes(starts: list[dict], *, facts: dict | None = None) -> Writes:
    """calls_start's writes, to run with others (pbx.row_source.run_writes); the started calls' facts go into
    `facts`, if given."""
    rows = [
        {
            "caller_channel_id": start["caller_channel_id"],
            "dialed_number": start["dialed_number"][:40],
            "caller_number": start["caller_number"],
            "caller_number_index": blind_index(start["caller_number"]),
            "caller_name": start["caller_name"],
            "company_id": start["company_id"],
            "queue_id": start["queue_id"],
            "agent_id": start["agent_id"],
            "enqueued_at": start["at"],
            "direction": start.get("direction", Direction.INBOUND),
            "linkedid": start.get("linkedid", ""),
            "state": CallState.WAITING if start["queue_id"] else CallState.RINGING,
        }
        for start in starts
    ]
    # A start seen again returns its call as well (DO UPDATE, where DO NOTHING would return nothing for it), as it
    # is: its facts are the row's, not this start's.
    insert = insert_rows_statement(
        Call,
        rows,
        conflict="(caller_channel_id) DO UPDATE SET updated_at = EXCLUDED.updated_at",
        returning=("caller_channel_id", *_CALL_FACTS_COLUMNS),
    )
    # A call `facts` does not know is taken to be new: its facts are the row inserted, id aside, so writes built
    # after this one in the same round trip can use them. The row returned says whether it was.
    assumed = {}
    if facts is not None:
        for row in rows:
            if (key := row["caller_channel_id"]) not in facts:
                facts[key] = assumed[key] = _Facts((None, *(row[name] for name in _NEW_CALL_FACTS), None))

    def finish(results):
        ids = {}
        for key, *row in results[0]:
            ids[key] = row[0]
            if facts is None:
                continue
            found = _Facts(_facts_row(row))
            if key in assumed:
                if assumed[key].but(pk=found.pk) != found:
                    raise FactsOutdated(f"call {key} was started before")
                facts[key] = facts[key].but(pk=found.pk)  # as later writes of the batch left it
            elif facts.get(key, found).pk != found.pk:
                raise FactsOutdated(f"call {key} is another row")
        for start in starts:
            transaction.on_commit(partial(publish_call_changed, call_id=ids[start["caller_channel_id"]],
                                          company_id=start["company_id"], agent_id=start["agent_id"]))  # fmt: skip

    return Writes([insert], finish)


_CALL_FACTS = ("pk", "company_id", "agent_id", "queue_id", "state", "enqueued_at", "answered_at")
_CALL_FACTS_COLUMNS = ("id", *_CALL_FACTS[1:])
# A new call's facts from the row calls_start_writes inserts, between its id and its answer time (none yet).
_NEW_CALL_FACTS = ("company_id", "agent_id", "queue_id", "state", "enqueued_at")


class FactsOutdated(Exception):
    """A write found its call's row other than the facts it was built on said (facts kept from an earlier
    transaction, while another process wrote the call; or a call taken to be new that was started before). Writes
    built on those facts after it may be wrong too: the transaction must be rolled back and done again with the
    facts read."""


def _facts_row(row) -> tuple:
    """A facts row as RETURNING gives it: SQLite gives times naive (in UTC), or as text, where the ORM converts."""
    return tuple(
        _as_time(value) if name.endswith("_at") else value for name, value in zip(_CALL_FACTS, row, strict=True)
    )


def _as_time(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


class _Facts:
    """The few columns the writes below need, read without locking or loading the whole row.

    The writes keep a facts dict they were given current (a call started, rung, answered or ended), so a caller that
    keeps it between transactions (the telephony writer) reads a call's facts once, not once per record. The columns
    that decide a write (answered, ended) are checked again by the write's own WHERE, so facts behind the row never
    write twice: the write then changes a call its facts did not expect to, or none it did, and says so
    (FactsOutdated)."""

    __slots__ = _CALL_FACTS

    def __init__(self, row):
        self.pk, self.company_id, self.agent_id, self.queue_id, self.state, self.enqueued_at, self.answered_at = row

    def but(self, **changes) -> "_Facts":
        return _Facts(tuple(changes.get(name, getattr(self, name)) for name in self.__slots__))

    def __eq__(self, other) -> bool:
        return isinstance(other, _Facts) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)


def calls_facts(caller_channel_ids) -> dict[str, _Facts]:
    """What the bulk writes below need to know of these calls, by caller channel id: a caller writing several kinds
    for the same calls in one transaction (the telephony writer's wave) reads it once and passes it to each."""
    rows = Call.objects.filter(caller_channel_id__in=set(caller_channel_ids))
    return {row[0]: _Facts(row[1:]) for row in rows.values_list("caller_channel_id", *_CALL_FACTS)}


def _unanswered(call: _Facts) -> bool:
    """_UNANSWERED's condition, on a call's facts."""
    return call.answered_at is None and call.state != CallState.ENDED


_UNANSWERED = Call.objects.filter(answered_at__isnull=True).exclude(state=CallState.ENDED)


def _check_written(written: set, expected: set) -> None:
    """The calls a write changed are those its facts said it would (FactsOutdated if not)."""
    if written != expected:
        raise FactsOutdated(f"calls {sorted(written ^ expected)} were not as their facts said")


def _publish(facts: _Facts, *, agent_id: int | None = None) -> None:
    transaction.on_commit(
        partial(
            publish_call_changed, call_id=facts.pk, company_id=facts.company_id, agent_id=agent_id or facts.agent_id
        )
    )


@atomic
def call_offer_start(*, caller_channel_id: str, agent_id: int, channel_id: str, at: datetime) -> None:
    offers_start([{"caller_channel_id": caller_channel_id, "agent_id": agent_id, "channel_id": channel_id, "at": at}])


@atomic
def offers_start(offers: list[dict], *, facts: dict | None = None) -> None:
    """call_offer_start for many calls: the agent's leg is recorded and the call rings that agent."""
    facts = facts if facts is not None else calls_facts(offer["caller_channel_id"] for offer in offers)
    run_writes(transaction.get_connection(), [offers_start_writes(offers, facts=facts)])


def offers_start_writes(offers: list[dict], *, facts: dict) -> Writes:
    """offers_start's writes (the calls' facts read already), to run with others (pbx.row_source.run_writes). They
    name each call by its caller channel id, so a call started earlier in the same round trip needs no id yet;
    `facts` is brought up to date now, as the writes will leave the calls (checked when they have run)."""
    offers = [offer for offer in offers if offer["caller_channel_id"] in facts]
    if not offers:
        return Writes([])
    offered = insert_under_parents_statements(
        Offer,
        "call",
        "caller_channel_id",
        [
            (
                offer["caller_channel_id"],
                {"company_id": facts[offer["caller_channel_id"]].company_id, "agent_id": offer["agent_id"],
                 "channel_id": offer["channel_id"], "offered_at": offer["at"], "answered_at": None,
                 "ended_at": None, "result": "", "hangup_cause": None},
            )
            for offer in offers
        ],
    )  # fmt: skip
    # The call rings this agent now, unless it was answered or ended meanwhile.
    rung = set()
    for offer in offers:
        key = offer["caller_channel_id"]
        if _unanswered(facts[key]):
            rung.add(key)
            facts[key] = facts[key].but(agent_id=offer["agent_id"], state=CallState.RINGING)
    ringing = {
        offer["caller_channel_id"]: {
            "agent_id": offer["agent_id"], "state": CallState.RINGING, "updated_at": offer["at"]
        }
        for offer in offers
    }  # fmt: skip
    ringing_statements = update_each_statements(_UNANSWERED, ringing, key="caller_channel_id")

    def finish(results):
        _check_written(set().union(*results[len(offered) :]), rung)
        for offer in offers:
            if (key := offer["caller_channel_id"]) in rung:
                _publish(facts[key], agent_id=offer["agent_id"])

    return Writes([*offered, *ringing_statements], finish)


@atomic
def call_offer_end(*, channel_id: str, result: str, cause: int | None, at: datetime) -> None:
    offers_end([{"channel_id": channel_id, "result": result, "cause": cause, "at": at}])


@atomic
def offers_end(ends: list[dict]) -> None:
    """call_offer_end for many offers; an offer that has its result already is left as it is."""
    run_writes(transaction.get_connection(), [offers_end_writes(ends)])


def offers_end_writes(ends: list[dict]) -> Writes:
    """offers_end's writes, to run with others (pbx.row_source.run_writes)."""
    results = {end["channel_id"]: {"result": end["result"], "hangup_cause": end["cause"], "ended_at": end["at"]}
               for end in ends}  # fmt: skip
    # A queue call that now rings nobody goes back to waiting; the agent it rang is no longer "its" agent. Asked of
    # the offers themselves rather than of which ones this write ended, so it runs with it, not after: an end seen
    # twice finds the call ringing its next offer, which is still unended, and leaves it so.
    back = (
        Call.objects.filter(offers__channel_id__in=list(results), state=CallState.RINGING, queue__isnull=False)
        .exclude(offers__result="")
    )  # fmt: skip
    at = max(end["at"] for end in ends)
    return Writes(
        [
            *update_each_statements(Offer.objects.filter(result=""), results, key="channel_id"),
            update_statement(back, state=CallState.WAITING, updated_at=at),
        ]
    )


@atomic
def call_answer(*, caller_channel_id: str, agent_id: int, channel_id: str, bridge_id: str, at: datetime) -> None:
    calls_answer([{"caller_channel_id": caller_channel_id, "agent_id": agent_id, "channel_id": channel_id,
                   "bridge_id": bridge_id, "at": at}])  # fmt: skip


@atomic
def calls_answer(answers: list[dict], *, facts: dict | None = None) -> None:
    """call_answer for many calls: connected to the agent who answered (once; an ended call stays ended)."""
    facts = facts if facts is not None else calls_facts(answer["caller_channel_id"] for answer in answers)
    run_writes(transaction.get_connection(), [calls_answer_writes(answers, facts=facts)])


def calls_answer_writes(answers: list[dict], *, facts: dict) -> Writes:
    """calls_answer's writes (the calls' facts read already), to run with others (pbx.row_source.run_writes), the
    answered offers' with them; `facts` is brought up to date now (see offers_start_writes)."""
    answers = [answer for answer in answers if (call := facts.get(answer["caller_channel_id"])) and _unanswered(call)]
    connected = {
        answer["caller_channel_id"]: {
            "answered_at": answer["at"],
            "agent_id": answer["agent_id"],
            "bridge_id": answer["bridge_id"],
            "state": CallState.CONNECTED,
            "wait_seconds": _seconds(facts[answer["caller_channel_id"]].enqueued_at, answer["at"]),
            "updated_at": answer["at"],
        }
        for answer in answers
    }
    for answer in answers:
        key = answer["caller_channel_id"]
        facts[key] = facts[key].but(answered_at=answer["at"], agent_id=answer["agent_id"], state=CallState.CONNECTED)
    calls = update_each_statements(_UNANSWERED, connected, key="caller_channel_id")
    offers = update_each_statements(
        Offer.objects.filter(answered_at__isnull=True),
        {answer["channel_id"]: {"answered_at": answer["at"], "result": OfferResult.ANSWERED} for answer in answers},
        key="channel_id",
    )

    def finish(written):
        _check_written(set().union(*written[: len(calls)]), set(connected))
        for answer in answers:
            _publish(facts[answer["caller_channel_id"]], agent_id=answer["agent_id"])

    return Writes(calls + offers, finish)


@atomic
def call_end(
    *,
    caller_channel_id: str,
    disposition: str,
    hangup_by: str,
    cause: int | None,
    cause_text: str,
    at: datetime,
    reconciled: bool = False,
) -> None:
    calls_end([{"caller_channel_id": caller_channel_id, "disposition": disposition, "hangup_by": hangup_by,
                "cause": cause, "cause_text": cause_text, "at": at, "reconciled": reconciled}])  # fmt: skip


@atomic
def calls_end(ends: list[dict], *, facts: dict | None = None) -> None:
    """call_end for many calls: ended once, with its disposition and wait or talk time."""
    facts = facts if facts is not None else calls_facts(end["caller_channel_id"] for end in ends)
    run_writes(transaction.get_connection(), [calls_end_writes(ends, facts=facts)])


def calls_end_writes(ends: list[dict], *, facts: dict) -> Writes:
    """calls_end's writes (the calls' facts read already), to run with others (pbx.row_source.run_writes); `facts`
    is brought up to date now (see offers_start_writes)."""
    endings = {}
    for end in ends:
        key, at = end["caller_channel_id"], end["at"]
        call = facts.get(key)
        if call is None or call.state == CallState.ENDED:
            continue
        timing = (
            {"talk_seconds": _seconds(call.answered_at, at)}
            if call.answered_at is not None
            else {"wait_seconds": _seconds(call.enqueued_at, at)}
        )
        endings[key] = {
            "state": CallState.ENDED,
            "ended_at": at,
            "disposition": end["disposition"],
            "hangup_by": end["hangup_by"],
            "hangup_cause": end["cause"],
            "hangup_cause_text": end["cause_text"][:100],
            "reconciled": end.get("reconciled", False),
            "updated_at": at,
            **timing,
        }
        facts[key] = call.but(state=CallState.ENDED)

    def finish(written):
        _check_written(set().union(*written), set(endings))
        for key in endings:
            _publish(facts[key])

    return Writes(update_each_statements(Call.objects.exclude(state=CallState.ENDED), endings, key="caller_channel_id"),
                  finish)  # fmt: skip


@atomic
def calls_overflow(overflows: list[dict], *, facts: dict | None = None) -> None:
    """Callers moved on to another queue at the maximum wait: each call waits in `queue_id` now, and keeps the
    queue it first waited in (`from_queue_id`)."""
    facts = facts if facts is not None else calls_facts(overflow["caller_channel_id"] for overflow in overflows)
    run_writes(transaction.get_connection(), [calls_overflow_writes(overflows, facts=facts)])


def calls_overflow_writes(overflows: list[dict], *, facts: dict) -> Writes:
    """calls_overflow's writes (the calls' facts read already), to run with others (pbx.row_source.run_writes);
    `facts` is brought up to date now (see offers_start_writes). An answered or ended call stays where it was."""
    moved = {}
    for overflow in overflows:
        key = overflow["caller_channel_id"]
        call = facts.get(key)
        if call is None or not _unanswered(call):
            continue
        moved[key] = {"queue_id": overflow["queue_id"], "overflowed_from_id": overflow["from_queue_id"],
                      "updated_at": overflow["at"]}  # fmt: skip
        facts[key] = call.but(queue_id=overflow["queue_id"])

    def finish(written):
        _check_written(set().union(*written), set(moved))
        for key in moved:
            _publish(facts[key])

    return Writes(update_each_statements(_UNANSWERED, moved, key="caller_channel_id"), finish)


@atomic
def call_events_add(*, caller_channel_id: str, events: list[dict]) -> None:
    """Append to the call's timeline; an event already recorded (same key) is skipped."""
    calls_events_add([(caller_channel_id, event) for event in events])


@atomic
def calls_events_add(events: list[tuple[str, dict]]) -> None:
    """Timeline rows of many calls, (caller channel id, event) each, in one insert that finds each call by its caller
    channel id; rows already recorded (same call and key) and rows of unknown calls are skipped."""
    run_writes(transaction.get_connection(), [calls_events_writes(events)])


def calls_events_writes(events: list[tuple[str, dict]]) -> Writes:
    """calls_events_add's writes, to run with others (pbx.row_source.run_writes)."""
    rows = [(key, _timeline_row(event)) for key, event in events]
    return Writes(insert_under_parents_statements(CallEvent, "call", "caller_channel_id", rows))


def _timeline_row(event: dict) -> dict:
    channel_id = event.get("channel_id", "")
    return {
        "at": event["at"],
        "kind": event["kind"][:40],
        "channel_id": channel_id[:150],
        "detail": event.get("detail") or {},
        "key": (event.get("key") or f"{event['kind']}:{channel_id}:{event['at'].isoformat()}")[:300],
    }


@atomic
def call_wrapup_record(*, agent_id: int, seconds: float) -> None:
    """How long the agent's wrap-up after their last answered call lasted (for average handle time)."""
    calls_wrapup_record({agent_id: seconds})


@atomic
def calls_wrapup_record(wrapups: dict[int, float], *, calls: dict[int, str] | None = None) -> None:
    """call_wrapup_record for many agents ({agent id: seconds})."""
    run_writes(transaction.get_connection(), [calls_wrapup_writes(wrapups, calls=calls)])


def calls_wrapup_writes(wrapups: dict[int, float], *, calls: dict[int, str] | None = None) -> Writes:
    """calls_wrapup_record's writes, to run with others (pbx.row_source.run_writes). The call is the one `calls`
    names for the agent (by its caller channel id: the telephony engine knows which call a wrap-up follows), or else
    the agent's last answered call, read now."""
    calls = {agent_id: key for agent_id, key in (calls or {}).items() if key and agent_id in wrapups}
    statements = update_each_statements(
        Call.objects.filter(wrapup_seconds__isnull=True),
        {key: {"wrapup_seconds": round(wrapups[agent_id], 3)} for agent_id, key in calls.items()},
        key="caller_channel_id",
    )
    unknown = [agent_id for agent_id in wrapups if agent_id not in calls]
    if unknown:
        last_calls = (
            User.objects.filter(pk__in=unknown)
            .annotate(last_call=Subquery(_last_answered_call(agent=OuterRef("pk"))))
            .exclude(last_call=None)
            .values_list("last_call", "pk")
        )
        statements += update_each_statements(
            Call.objects.filter(wrapup_seconds__isnull=True),
            {call_id: {"wrapup_seconds": round(wrapups[agent_id], 3)} for call_id, agent_id in last_calls},
        )
    return Writes(statements)


def _last_answered_call(*, agent):
    return (
        Call.objects.filter(agent_id=agent, state=CallState.ENDED, answered_at__isnull=False)
        .order_by("-ended_at", "-pk")
        .values("pk")[:1]
    )
