"""Tells the live console (Channels groups) that an agent changed; called on commit, never inside a transaction."""

from pbx.live_push import send_to_groups


def company_group(company_id: int) -> str:
    return f"company.{company_id}.agents"


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def publish_agent_state(*, agent_id: int, company_id: int | None) -> None:
    """The console re-renders from the database, so the message only says who changed."""
    groups = [agent_group(agent_id)] + ([company_group(company_id)] if company_id is not None else [])
    send_to_groups(groups, {"type": "agent.changed", "agent_id": agent_id, "company_id": company_id})


def publish_roster_change(*, agent_id: int, company_ids) -> None:
    """A user joined, left or was edited: the wallboards of these companies add, drop or redraw their row."""
    for company_id in {company_id for company_id in company_ids if company_id is not None}:
        publish_agent_state(agent_id=agent_id, company_id=company_id)
