"""Tells the live console (Channels groups) that a call changed; called on commit."""

from accounts.live import agent_group, company_group
from pbx.live_push import send_to_groups


def publish_call_changed(*, call_id: int, company_id: int | None, agent_id: int | None) -> None:
    """The console re-renders the call parts from the database; the message only says which call changed."""
    if company_id is None:
        return
    groups = [company_group(company_id)] + ([agent_group(agent_id)] if agent_id is not None else [])
    send_to_groups(groups, {"type": "call.changed", "call_id": call_id, "company_id": company_id, "agent_id": agent_id})
