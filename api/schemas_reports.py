"""What the report route takes and gives: the report page's tables as JSON (seconds as numbers, shares as 0..1)."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from api.schemas import AgentRef, Id, QueryDate, agent_ref, local, zone_of
from calls.selectors import Figures
from reports.selectors import AgentDay, AgentReport, CompanyReport


class ReportQuery(Schema):
    date_from: QueryDate = Field(description="First day (inclusive), in the company's time zone.")
    date_to: QueryDate = Field(
        description="Last day (inclusive), in the company's time zone; at most 92 days after date_from. Days after "
        "today are left out."
    )
    company_id: Id | None = Field(
        default=None, description="The company (required for system admins; managers get their own)."
    )
    queue_id: Id | None = Field(
        default=None, description="One of the company's queues: the days and hours are its own."
    )


class FiguresOut(Schema):
    offered: int = Field(
        description="Queue calls that entered within business hours, not from a blocked number, and have ended."
    )
    answered: int
    abandoned: int
    answered_within_service_level: int
    abandon_rate: float | None = Field(description="abandoned ÷ offered (0..1); null without calls.")
    average_speed_of_answer_seconds: float | None
    average_handle_seconds: float | None = Field(description="(talk + wrap-up) ÷ answered.")
    service_level: float | None = Field(description="Answered within the queue's threshold ÷ offered (0..1).")
    after_hours: int = Field(description="Queue calls that came outside the queue's business hours (not offered).")
    overflowed: int = Field(
        description="Callers who moved on from the queue at its maximum wait to its overflow queue (days, hours and "
        "totals: from any queue, or the report's queue); the queue that took them counts them as offered."
    )


class DayOut(FiguresOut):
    day: str = Field(description="YYYY-MM-DD, a day of the company.")


class HourOut(FiguresOut):
    hour: int = Field(description="0..23, the hour of the company's day the calls entered in (every day together).")


class QueueFiguresOut(FiguresOut):
    queue_id: int
    number: str
    name: str
    service_level_seconds: int


class AgentReportOut(Schema):
    agent: AgentRef
    is_active: bool
    answered: int
    missed_offers: int
    handle_seconds: float = Field(description="Talk plus wrap-up of the answered calls.")
    average_handle_seconds: float | None
    seconds_by_state: dict[str, float] = Field(description="READY, CALLING, ON_CALL, POST_PROCESSING, AWAY, TRAINING.")
    away_seconds_by_reason: dict[str, float] = Field(description="AWAY time per pause reason code (LUNCH, …).")
    away_over_limit_seconds: float = Field(description="AWAY time past the limit of its reason (max_minutes).")
    occupancy: float | None = Field(description="Time on calls ÷ (time on calls + READY) (0..1).")


class ReportOut(Schema):
    company_id: int
    queue_id: int | None = Field(description="The queue the days and hours are of (null: every queue).")
    date_from: str
    date_to: str = Field(description="The last day counted (today at the latest).")
    days: list[DayOut]
    hours: list[HourOut]
    queues: list[QueueFiguresOut]
    total: FiguresOut = Field(description="Every queue together, over every day.")
    agents: list[AgentReportOut]


def figures_out(f: Figures) -> dict:
    return {
        "offered": f.offered,
        "answered": f.answered,
        "abandoned": f.abandoned,
        "answered_within_service_level": f.within_service_level,
        "abandon_rate": f.abandon_rate,
        "average_speed_of_answer_seconds": f.average_speed_of_answer,
        "average_handle_seconds": f.average_handle_time,
        "service_level": f.service_level,
        "after_hours": f.after_hours,
        "overflowed": f.overflowed,
    }


def agent_report_out(row: AgentReport, reason_codes: dict[int, str]) -> dict:
    return {
        "agent": agent_ref(row.agent),
        "is_active": row.agent.is_active,
        "answered": row.figures.answered,
        "missed_offers": row.figures.missed_offers,
        "handle_seconds": row.figures.handle_total,
        "average_handle_seconds": row.figures.average_handle_time,
        "seconds_by_state": dict(row.time.seconds_by_state),
        "away_seconds_by_reason": {reason_codes[pk]: s for pk, s in row.time.seconds_by_reason.items()},
        "away_over_limit_seconds": row.time.away_over_limit,
        "occupancy": row.occupancy,
    }


def report_out(report: CompanyReport) -> dict:
    codes = {reason.pk: reason.code for reason in report.reasons}
    return {
        "company_id": report.company.pk,
        "queue_id": report.queue.pk if report.queue else None,
        "date_from": report.first_day.isoformat(),
        "date_to": report.last_day.isoformat(),
        "days": [{"day": day.isoformat(), **figures_out(f)} for day, f in report.days],
        "hours": [{"hour": hour, **figures_out(f)} for hour, f in report.hours],
        "queues": [
            {
                "queue_id": q.pk,
                "number": q.number,
                "name": q.name,
                "service_level_seconds": q.service_level_seconds,
                **figures_out(f),
            }  # fmt: skip
            for q, f in report.per_queue
        ],
        "total": figures_out(report.total),
        "agents": [agent_report_out(row, codes) for row in report.agents],
    }


class ActivityDayQuery(Schema):
    day: QueryDate | None = Field(
        default=None, description="A day of the agent's company (YYYY-MM-DD); today if left out."
    )


class StateChangeOut(Schema):
    at: datetime
    from_state: str
    to_state: str
    pause_reason: str | None = Field(description="The AWAY reason's code (LUNCH, …).")
    source: str = Field(description="SELF, SUPERVISOR or TELEPHONY.")
    actor_id: int | None
    note: str
    seconds: float = Field(description="How long to_state lasted: to the next change, the day's end or now.")
    still_going: bool


class ActivityDayOut(Schema):
    agent: AgentRef
    day: str
    began_state: str | None = Field(description="The state the day began in (null: none recorded).")
    began_pause_reason: str | None
    began_since: datetime | None
    began_seconds: float = Field(description="From midnight (or since) to the day's first change.")
    changes: list[StateChangeOut]
    seconds_by_state: dict[str, float]


def activity_day_out(day: AgentDay) -> dict:
    zone = zone_of(day.agent.company)
    return {
        "agent": agent_ref(day.agent),
        "day": day.day.isoformat(),
        "began_state": day.began_state or None,
        "began_pause_reason": day.began_reason.code if day.began_reason else None,
        "began_since": local(day.began_since, zone),
        "began_seconds": day.began_seconds,
        "changes": [
            {
                "at": local(s.change.changed_at, zone),
                "from_state": s.change.from_state,
                "to_state": s.change.to_state,
                "pause_reason": s.change.pause_reason.code if s.change.pause_reason else None,
                "source": s.change.source,
                "actor_id": s.change.actor_id,
                "note": s.change.note,
                "seconds": s.seconds,
                "still_going": s.still_going,
            }
            for s in day.stretches
        ],
        "seconds_by_state": dict(day.time.seconds_by_state) if day.time else {},
    }
