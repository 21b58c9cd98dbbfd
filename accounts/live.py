"""Tells the live console (Channels groups) that an agent changed; called on commit, never inside a transaction."""

from pbx.live_push import send_to_groups


def company_group(company_id: int) -> str:
    return f"company.{company_id}.agents"


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def user_sockets_group(user_id: int) -> str:
    """Every console socket the user has open, to tell them their access changed."""
    return f"user.{user_id}.sockets"


def publish_agent_state(*, agent_id: int, company_id: int | None) -> None:
    """The console re-renders from the database, so the message only says who changed."""
    groups = [agent_group(agent_id)] + ([company_group(company_id)] if company_id is not None else [])
    send_to_groups(groups, {"type": "agent.changed", "agent_id": agent_id, "company_id": company_id})


def publish_roster_change(*, agent_id: int, company_ids) -> None:
    """A user joined, left or was edited: the wallboards of these companies add, drop or redraw their row."""
    for company_id in {company_id for company_id in company_ids if company_id is not None}:
        publish_agent_state(agent_id=agent_id, company_id=company_id)


def publish_session_ended(*, user_id: int, session_key: str) -> None:
    """A sign-out: the console sockets opened with that web session close now, not at the session's expiry."""
    send_to_groups([user_sockets_group(user_id)], {"type": "session.ended", "session_key": session_key})


def publish_access_changed(*, user_id: int) -> None:
    """The user was edited, moved, disabled or given a new password: each open console socket checks again whether
    it may go on showing what it shows."""
    send_to_groups([user_sockets_group(user_id)], {"type": "access.changed"})
