"""Every write to users and their activity state.

`activity_change` is the one way an agent's state changes: it enforces who may make which move (accounts.states),
locks the agent's row so two changes cannot interleave, writes the audit log and tells the live console on commit.
"""

import json
import secrets
from dataclasses import dataclass
from functools import partial

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.live import publish_access_changed, publish_agent_state, publish_roster_change
from accounts.models import ActivityChange, Role, User
from accounts.states import AFTER_CALL_STATES, ActivityState, ChangeSource, is_allowed
from companies.models import PauseReason
from companies.services import pause_reason_for
from pbx.row_inserts import insert_rows, insert_rows_statement
from pbx.row_source import Statement, Writes, run_writes
from pbx.row_updates import update_each_statements


class ActivityChangeRefused(Exception):
    """The change is not allowed; the message says why, in words for the person who asked."""


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: a person (with their role) or the telephony core (user None)."""

    source: str
    user: User | None = None

    @classmethod
    def telephony(cls) -> "Actor":
        return cls(source=ChangeSource.TELEPHONY)

    @classmethod
    def person(cls, *, user: User, agent: User) -> "Actor":
        """The agent themself, or a manager/admin acting on an agent of a company they may see."""
        return cls(source=ChangeSource.SELF if user.pk == agent.pk else ChangeSource.SUPERVISOR, user=user)


def _check_actor(actor: Actor, agent: User) -> None:
    if actor.source == ChangeSource.TELEPHONY:
        return
    user = actor.user
    if user is None or not user.is_active:
        raise ActivityChangeRefused(_("You are not signed in."))
    if actor.source == ChangeSource.SELF:
        if user.pk != agent.pk:
            raise ActivityChangeRefused(_("Agents change only their own state."))
        return
    if user.role == Role.SYSTEM_ADMIN:
        return
    if user.role == Role.MANAGER and user.company_id == agent.company_id:
        return
    raise ActivityChangeRefused(_("You may not change this agent's state."))


def _resolve_reason(*, agent: User, to_state: str, actor: Actor, pause_reason: PauseReason | None):
    if to_state != ActivityState.AWAY:
        return None
    if pause_reason is None:
        if actor.source == ChangeSource.TELEPHONY:
            return pause_reason_for(company_id=agent.company_id, code=PauseReason.Code.MISSED_OFFER)
        raise ActivityChangeRefused(_("Choose a reason for being away."))
    if pause_reason.company_id != agent.company_id or not pause_reason.is_active:
        raise ActivityChangeRefused(_("That pause reason does not belong to this company."))
    if pause_reason.is_automatic and not _sets_automatic_reason(actor, agent, pause_reason):
        raise ActivityChangeRefused(_("That pause reason is set only by the system."))
    return pause_reason


def _sets_automatic_reason(actor: Actor, agent: User, reason: PauseReason) -> bool:
    """The product's own reasons are never a person's pick: the telephony core sets them, and enabling a disabled
    agent again sets ENABLED_AGAIN (agent_enabled_again)."""
    if actor.source == ChangeSource.TELEPHONY:
        return True
    return (
        actor.source == ChangeSource.SUPERVISOR
        and reason.code == PauseReason.Code.ENABLED_AGAIN
        and agent.activity_state == ActivityState.DISABLED
    )


def agent_enabled_again(*, agent: User, by: User, note: str = "enabled again") -> User:
    """A disabled agent whose account is enabled again comes back AWAY ("enabled again"), not READY: being enabled is
    not being at the desk, and a call offered to an empty desk is a missed call. They pick Ready themselves."""
    reason = pause_reason_for(company_id=agent.company_id, code=PauseReason.Code.ENABLED_AGAIN)
    return activity_change(
        agent_id=agent.pk, to_state=ActivityState.AWAY, actor=Actor.person(user=by, agent=agent), pause_reason=reason,
        note=note,
    )  # fmt: skip


# The columns a state change reads: loading the whole row would decrypt the phone number and SIP secret every time.
_STATE_FIELDS = ("role", "company", "is_active", "extension", "endpoint_online", "activity_state",
                 "activity_changed_at", "pause_reason", "after_call_state", "after_call_reason")  # fmt: skip
_STATES = frozenset(ActivityState.values)


def _locked(agents) -> User | None:
    """The first agent of the queryset, its row locked until the transaction ends.

    FOR NO KEY UPDATE (no_key), as a plain UPDATE takes: a state change never touches the user's key, so rows that
    merely refer to the agent (calls, offers, audit rows being inserted elsewhere) need not wait for it.
    """
    return agents.select_for_update(no_key=True).only(*_STATE_FIELDS).first()


def user_locked(user_id: int) -> User:
    """The whole user, their row locked until the transaction ends (FOR NO KEY UPDATE, for the reason `_locked`
    gives): how a person's edit of a user starts."""
    return User.objects.select_for_update(no_key=True).get(pk=user_id)


@dataclass(frozen=True)
class LockedAgents:
    rows: dict[int, User]  # locked by this transaction, with the columns a state change reads
    held: set[int]  # another transaction holds these: not locked, not waited for


def agents_lock(agent_ids, *, wait: bool = False) -> LockedAgents:
    """Lock these agents' rows for the transaction without waiting for rows another transaction holds (ask for those
    again later), or, with `wait`, waiting for them. Ids of no user are in neither part.

    The telephony engine changes many agents per transaction: one agent held elsewhere (an import, a session left
    open) must hold up that agent's calls only, not every call of the batch.
    """
    wanted = set(agent_ids)
    locked = {agent.pk: agent for agent in _agents_locking(wanted, skip_locked=not wait)}
    missing = wanted - set(locked)
    # A plain read does not wait for row locks: what it finds of the rest, another transaction holds.
    held = set(User.objects.filter(pk__in=missing).values_list("pk", flat=True)) if missing else set()
    return LockedAgents(locked, held)


def agents_lock_statement(agent_ids) -> Statement:
    """agents_lock's locking read as a statement to send with others (pbx.row_source.run_together), inside a
    transaction; it reads as {id: agent} of the rows it locked. Rows another transaction holds are skipped, and are
    not told apart from ids of no user: a caller missing some asks agents_lock."""
    rows = _agents_locking(set(agent_ids), skip_locked=True)
    compiler = rows.query.get_compiler(rows.db)
    sql, params = compiler.as_sql()
    columns = [column.target.attname for column, _sql, _alias in compiler.select]
    pk = columns.index(User._meta.pk.attname)
    return Statement(sql, list(params), lambda found: {row[pk]: User.from_db(rows.db, columns, row) for row in found})


def _agents_locking(agent_ids: set, *, skip_locked: bool):
    """The agents' rows with the columns a state change reads, locked in id order (no two lockers deadlock)."""
    rows = User.objects.filter(pk__in=agent_ids).order_by("pk")
    return rows.select_for_update(no_key=True, skip_locked=skip_locked).only(*_STATE_FIELDS)


def activity_change_in_transaction(
    *,
    agent_id: int,
    to_state: str,
    actor: Actor,
    pause_reason: PauseReason | None = None,
    note: str = "",
    only_from: tuple[str, ...] | None = None,
) -> User:
    """Move an agent to `to_state`, or raise ActivityChangeRefused; inside the caller's transaction.

    `only_from` lets the telephony core say "only if the agent is still in one of these states", so a late event
    cannot undo a newer change; a mismatch is refused like any other disallowed move. A refusal is raised before
    anything is written, so the caller may catch it and carry on with its transaction.
    """
    if to_state not in _STATES:
        raise ActivityChangeRefused(_("%(state)s is not an activity state.") % {"state": to_state})
    agent = _locked(User.objects.filter(pk=agent_id))
    if agent is None:
        raise User.DoesNotExist(f"no user {agent_id}")
    return _change(agent, to_state=to_state, actor=actor, pause_reason=pause_reason, note=note, only_from=only_from)


# The same, in a transaction of its own: the console's and the API's way to change a state.
activity_change = transaction.atomic(activity_change_in_transaction)


@dataclass(frozen=True)
class TelephonyChange:
    """A state change the telephony core asks for; many are applied together (see telephony_changes_apply)."""

    agent_id: int
    to_state: str = ""  # empty with after_wrapup: wherever the agent chose to go "after this call" (READY if nothing)
    only_from: tuple[str, ...] | None = None
    note: str = ""
    after_wrapup: bool = False
    claim: bool = False  # READY → CALLING for a call: only an active agent whose phone is registered


@dataclass(frozen=True)
class AppliedChange:
    agent_id: int
    from_state: str
    to_state: str
    seconds_in_previous: float
    extension: str | None = None


def telephony_changes_apply(
    changes: list[TelephonyChange], *, locked: dict[int, User] | None = None
) -> list[AppliedChange | None]:
    """The telephony core's changes of different agents, in the caller's transaction, by activity_change's rules:
    one lock for all their rows, then the audit rows and the agents' columns in one round trip.

    `locked`: the agents' rows as agents_lock returned them earlier in this transaction; each change keeps its
    instance up to date, so a transaction making several rounds of changes reads and locks its agents only once.
    Returns, per change, what happened, or None where it was refused (the agent had moved on).
    """
    results, writes = telephony_changes_decide(changes, locked=locked)
    run_writes(transaction.get_connection(), [writes])
    return results


def telephony_changes_decide(
    changes: list[TelephonyChange], *, locked: dict[int, User] | None = None
) -> tuple[list[AppliedChange | None], Writes]:
    """telephony_changes_apply's decisions, and the writes that record them, to run with others in the same
    transaction (pbx.row_source.run_writes): the telephony writer sends all the writes of a wave together."""
    assert len({change.agent_id for change in changes}) == len(changes), "one change per agent at a time"
    if locked is not None:
        agents = locked
    else:
        rows = User.objects.filter(pk__in=[change.agent_id for change in changes]).order_by("pk")
        agents = {agent.pk: agent for agent in rows.select_for_update(no_key=True).only(*_STATE_FIELDS)}
    now = timezone.now()
    actor = Actor.telephony()
    audit: list[dict] = []
    updates: dict[int, dict] = {}  # agent id -> the columns their change sets
    results: list[AppliedChange | None] = []
    for change in changes:
        agent = agents.get(change.agent_id)
        if agent is None:
            results.append(None)
            continue
        if change.claim and not agent.is_claimable:
            results.append(None)
            continue
        to_state, pause_reason = change.to_state, None
        if change.after_wrapup:
            to_state = agent.after_call_state or ActivityState.READY
            if agent.after_call_reason_id:
                pause_reason = PauseReason.objects.filter(pk=agent.after_call_reason_id).first()
        try:
            decided = _decide(
                agent, to_state=to_state, actor=actor, pause_reason=pause_reason, only_from=change.only_from
            )
        except ActivityChangeRefused:
            results.append(None)
            continue
        if decided is None:
            results.append(AppliedChange(agent.pk, agent.activity_state, to_state, 0.0, agent.extension))
            continue
        row, fields = _audit_row(agent, decided, actor=actor, note=change.note, now=now)
        audit.append(row)
        updates[agent.pk] = fields
        results.append(
            AppliedChange(agent.pk, row["from_state"], row["to_state"], row["seconds_in_previous"], agent.extension)
        )
        transaction.on_commit(partial(publish_agent_state, agent_id=agent.pk, company_id=agent.company_id))
    # The audit rows, and each agent's own values (states, reasons); the rows are locked above.
    statements = [insert_rows_statement(ActivityChange, audit)] if audit else []
    return results, Writes(statements + update_each_statements(User.objects.all(), updates))


def _decide(agent: User, *, to_state, actor: Actor, pause_reason=None, only_from=None):
    """Whether the move is allowed (ActivityChangeRefused if not) and with which pause reason; None: nothing to do."""
    _check_actor(actor, agent)
    if agent.role != Role.AGENT:
        raise ActivityChangeRefused(_("Only agents have an activity state."))
    from_state = agent.activity_state
    if only_from is not None and from_state not in only_from:
        raise ActivityChangeRefused(_("The agent is %(state)s now.") % {"state": ActivityState(from_state).label})
    # The move itself is judged before its reason, so a refused move is never answered with "choose a reason".
    if from_state != to_state and not is_allowed(source=actor.source, from_state=from_state, to_state=to_state):
        raise ActivityChangeRefused(
            _("%(from)s → %(to)s is not allowed here.")
            % {"from": ActivityState(from_state).label, "to": ActivityState(to_state).label}
        )
    reason = _resolve_reason(agent=agent, to_state=to_state, actor=actor, pause_reason=pause_reason)
    if from_state == to_state and not (
        to_state == ActivityState.AWAY and reason is not None and reason.pk != agent.pause_reason_id
    ):
        return None  # nothing changes; a new reason for the same AWAY, though, is recorded like a change
    return to_state, reason


def _audit_row(agent: User, decided, *, actor: Actor, note: str, now) -> tuple[dict, dict]:
    """The audit row (ActivityChange's fields) of a decided change and the agent's columns it sets (the instance is
    updated too)."""
    to_state, reason = decided
    from_state = agent.activity_state
    row = {
        "agent_id": agent.pk,
        "company_id": agent.company_id,
        "from_state": from_state,
        "to_state": to_state,
        "pause_reason_id": reason.pk if reason else None,
        "source": actor.source,
        "actor_id": actor.user.pk if actor.user else None,
        "note": note[:200],
        "changed_at": now,
        "seconds_in_previous": max(0.0, (now - agent.activity_changed_at).total_seconds()),
    }
    fields = {"activity_state": to_state, "activity_changed_at": now, "pause_reason_id": reason.pk if reason else None}
    if to_state == ActivityState.DISABLED or from_state == ActivityState.POST_PROCESSING:
        # The "after this call" choice is used up once wrap-up ends (or the agent is disabled).
        fields |= {"after_call_state": "", "after_call_reason_id": None}
    for name, value in fields.items():
        setattr(agent, name, value)
    return row, fields


def _change(agent: User, *, to_state, actor: Actor, pause_reason=None, note="", only_from=None) -> User:
    """One change, on a row this transaction has locked."""
    decided = _decide(agent, to_state=to_state, actor=actor, pause_reason=pause_reason, only_from=only_from)
    if decided is None:
        return agent
    row, fields = _audit_row(agent, decided, actor=actor, note=note, now=timezone.now())
    insert_rows(ActivityChange, [row])
    # An UPDATE of these columns only: save() would run the user's whole save path for a state change.
    User.objects.filter(pk=agent.pk).update(**fields)
    transaction.on_commit(lambda: publish_agent_state(agent_id=agent.pk, company_id=agent.company_id))
    return agent


@transaction.atomic
def agent_claim(*, agent_id: int, note: str = "") -> User | None:
    """READY → CALLING only if the agent is READY right now, registered and active: one call per agent, ever.

    Returns the claimed agent, or None when they cannot take a call now.
    """
    agent = _locked(User.objects.filter(pk=agent_id))
    if agent is None or not agent.is_claimable:
        return None
    return _change(
        agent, to_state=ActivityState.CALLING, actor=Actor.telephony(), note=note, only_from=(ActivityState.READY,)
    )


@dataclass(frozen=True)
class ClaimFound:
    """What a claim found of one agent (see agents_claim)."""

    claimed: bool  # READY → CALLING now
    held: bool = False  # another transaction holds the row: nothing was read or waited for
    state: str | None = None  # the state found; None for no such user, or a held row
    endpoint_online: bool = False
    extension: str | None = None


# READY → CALLING for many agents in one statement (PostgreSQL): lock the rows other transactions do not hold, move
# those that may take a call (is_claimable), write their audit rows, and say what was found of each. The rule and the
# audit row are activity_change's (_decide, _audit_row) for this one move by the telephony core. The agents are
# looked up by `= ANY(ARRAY(…))`: `IN (SELECT … FROM wanted)` let the planner, which expects a hundred rows of any
# JSON, hash-join a scan of every user instead of reading the primary key (0.4 ms of 600 users, more with more).
_CLAIM_SQL = """
WITH wanted AS (SELECT * FROM json_to_recordset(%(wanted)s::json) AS r(n integer, agent_id bigint, note varchar)),
locked AS (
    SELECT id, activity_state, activity_changed_at, role, is_active, endpoint_online, extension, company_id
    FROM accounts_user WHERE id = ANY(ARRAY(SELECT agent_id FROM wanted)) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE accounts_user AS u SET activity_state = %(to)s, activity_changed_at = %(now)s, pause_reason_id = NULL
    FROM locked WHERE u.id = locked.id AND locked.activity_state = %(from)s AND locked.role = %(agent)s
        AND locked.is_active AND locked.endpoint_online
    RETURNING u.id
),
audit AS (
    INSERT INTO accounts_activitychange (agent_id, company_id, from_state, to_state, pause_reason_id, source,
        actor_id, note, changed_at, seconds_in_previous)
    SELECT locked.id, locked.company_id, %(from)s, %(to)s, NULL, %(source)s, NULL, left(wanted.note, 200), %(now)s,
        greatest(0, extract(epoch FROM %(now)s - locked.activity_changed_at))
    FROM claimed JOIN locked ON locked.id = claimed.id JOIN wanted ON wanted.agent_id = claimed.id ORDER BY wanted.n
)
SELECT wanted.agent_id, claimed.id IS NOT NULL, locked.id IS NULL AND EXISTS (
        SELECT FROM accounts_user WHERE id = wanted.agent_id), locked.activity_state, locked.endpoint_online,
    locked.extension, locked.company_id
FROM wanted LEFT JOIN locked ON locked.id = wanted.agent_id LEFT JOIN claimed ON claimed.id = wanted.agent_id
ORDER BY wanted.n
"""


def agents_claim(claims: list[tuple[int, str]]) -> dict[int, ClaimFound]:
    """READY → CALLING for each agent (id, audit note) that may take a call now; one claim per agent.

    Rows another transaction holds are skipped, not waited for (ClaimFound.held: ask again later). The telephony
    engine claims the agents of many direct calls at once; on PostgreSQL this is one statement in its own
    transaction, a single round trip, where the general path (agents_lock, telephony_changes_apply) takes five.
    """
    assert len({agent_id for agent_id, _note in claims}) == len(claims), "one claim per agent at a time"
    if not claims:
        return {}
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return _agents_claim_in_steps(claims)
    wanted = json.dumps([{"n": n, "agent_id": agent_id, "note": note} for n, (agent_id, note) in enumerate(claims)])
    params = {"wanted": wanted, "now": timezone.now(), "from": ActivityState.READY, "to": ActivityState.CALLING,
              "agent": Role.AGENT, "source": ChangeSource.TELEPHONY}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, params)
        rows = cursor.fetchall()
    found = {}
    for agent_id, claimed, held, state, online, extension, company_id in rows:
        found[agent_id] = ClaimFound(claimed, held, state, bool(online), extension)
        if claimed:  # committed already: the statement was its own transaction
            publish_agent_state(agent_id=agent_id, company_id=company_id)
    return found


@transaction.atomic
def _agents_claim_in_steps(claims: list[tuple[int, str]]) -> dict[int, ClaimFound]:
    """agents_claim through the general path: SQLite, or inside a caller's transaction."""
    locked = agents_lock(agent_id for agent_id, _note in claims)
    changes = [
        TelephonyChange(agent_id=agent_id, to_state=ActivityState.CALLING, only_from=(ActivityState.READY,),
                        note=note, claim=True)
        for agent_id, note in claims
        if agent_id in locked.rows
    ]  # fmt: skip
    applied = dict(zip([change.agent_id for change in changes], telephony_changes_apply(changes, locked=locked.rows),
                       strict=True))  # fmt: skip
    found = {}
    for agent_id, _note in claims:
        row = locked.rows.get(agent_id)
        if row is None:
            found[agent_id] = ClaimFound(False, held=agent_id in locked.held)
        else:
            state = applied[agent_id].from_state if applied[agent_id] is not None else row.activity_state
            found[agent_id] = ClaimFound(applied[agent_id] is not None, False, state, row.endpoint_online,
                                         row.extension)  # fmt: skip
    return found


# An agent in one of these states works the queues they belong to: they take, or are taking, its calls.
WORKING_STATES = (ActivityState.CALLING, ActivityState.ON_CALL, ActivityState.POST_PROCESSING)


def agents_working_exist(*, company_id: int, among_ids=None) -> bool:
    """Whether any of the company's agents (`among_ids`: a queue's members) works now: READY with a phone to ring,
    or ringing, on a call or in wrap-up. A queue without any is unstaffed (Queue.overflow_when_unstaffed)."""
    agents = User.objects.filter(company_id=company_id, role=Role.AGENT, is_active=True)
    if among_ids is not None:
        agents = agents.filter(pk__in=list(among_ids))
    ready = Q(activity_state=ActivityState.READY, endpoint_online=True, extension__isnull=False)
    return agents.filter(ready | Q(activity_state__in=WORKING_STATES)).exists()


def agents_ready_longest_idle(*, company_id: int, among_ids=None, limit: int) -> list[tuple[int, str]]:
    """(id, extension) of the company's agents who may take a queue call now, longest idle first: READY, active,
    their phone registered and an extension to ring; `among_ids` limits them to a queue's members.

    A read without locks: agents_claim takes the agents chosen from it, and says which another claim took first."""
    candidates = User.objects.filter(
        company_id=company_id,
        role=Role.AGENT,
        is_active=True,
        endpoint_online=True,
        activity_state=ActivityState.READY,
        extension__isnull=False,
    )
    if among_ids is not None:
        candidates = candidates.filter(pk__in=list(among_ids))
    return list(candidates.order_by("activity_changed_at", "pk").values_list("pk", "extension")[:limit])


@transaction.atomic
def agent_choose_after_call(*, agent: User, state: str, pause_reason: PauseReason | None = None) -> User:
    """What wrap-up should turn into for this agent: READY (the default), AWAY with a reason, or TRAINING."""
    if state not in AFTER_CALL_STATES:
        raise ActivityChangeRefused(_("Choose Ready, Away or Training."))
    reason = _resolve_reason(
        agent=agent, to_state=state, actor=Actor(ChangeSource.SELF, agent), pause_reason=pause_reason
    )
    User.objects.filter(pk=agent.pk).update(after_call_state=state, after_call_reason=reason)
    agent.after_call_state, agent.after_call_reason = state, reason
    transaction.on_commit(lambda: publish_agent_state(agent_id=agent.pk, company_id=agent.company_id))
    return agent


def user_create(
    *,
    username: str,
    password: str,
    role: str,
    company=None,
    extension: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    validate: bool = True,
) -> User:
    """A new user with a hashed (peppered Argon2id) password; agents also get a SIP secret for their phone."""
    user = User(
        username=username,
        role=role,
        company=company,
        extension=extension or None,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        sip_secret=secrets.token_urlsafe(18) if extension else "",
    )
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        roster_changed(user, previous_company_id=None)
    return user


# States in which an agent is busy with a call (ringing, talking, wrapping up).
WITH_A_CALL = (ActivityState.CALLING, ActivityState.ON_CALL, ActivityState.POST_PROCESSING)


def user_reassign(user: User, *, role: str, company) -> None:
    """Give the (unsaved) user a role and company. An agent busy with a call keeps both until it is over; an agent
    moved to another company keeps their pause reasons by code, as that company's reasons (a reason belongs to one
    company, and the new one's wallboard must be able to show it)."""
    moving = (company.pk if company else None) != user.company_id
    if user.role == Role.AGENT and (role != user.role or moving) and user.activity_state in WITH_A_CALL:
        raise ActivityChangeRefused(_("This agent is on a call now."))
    if moving:
        for field in ("pause_reason", "after_call_reason"):
            reason = getattr(user, field)
            if reason is not None:
                setattr(user, field, pause_reason_for(company_id=company.pk, code=reason.code) if company else None)
    user.role, user.company = role, company


def roster_changed(user: User, *, previous_company_id: int | None) -> None:
    """Once committed, the wallboards of the user's previous and current company show them (or stop showing them),
    and the user's own console sockets check whether they may still show what they show."""
    transaction.on_commit(
        partial(publish_roster_change, agent_id=user.pk, company_ids=(previous_company_id, user.company_id))
    )
    transaction.on_commit(partial(publish_access_changed, user_id=user.pk))


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """A new password signs the user out everywhere else: their API tokens stop working and their open console
    sockets close (their sessions no longer match)."""
    from api.services import tokens_revoke_all  # here, not at the top: the api app builds on this one

    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    tokens_revoke_all(user_id=user.pk)
    transaction.on_commit(partial(publish_access_changed, user_id=user.pk))
    return user
