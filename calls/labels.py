"""Words for people for what the telephony core records in machine terms: timeline entries and hang-up causes.

The stored values stay as recorded (support engineers match them against Asterisk's logs); pages show these labels
beside them, in the reader's language.
"""

from django.utils.translation import gettext_lazy as _

TIMELINE_KINDS = {
    "closed": _("Outside business hours: the caller hears the closed message"),
    "blocked": _("A blocked number: the caller is refused"),
    "caller_queued": _("The caller waits in the queue"),
    "agent_ringing": _("The agent's phone rings"),
    "agent_answered": _("The agent answered"),
    "agent_hangup_request": _("Hang-up asked for on the agent's line"),
    "agent_leg_destroyed": _("The agent's line ended"),
    "agent_unavailable": _("The agent could not take the call"),
    "originate_failed": _("The agent's phone could not be rung"),
    "ring_timeout": _("Nobody answered in time"),
    "customer_answered": _("The customer answered"),
    "customer_leg_destroyed": _("The customer's line ended"),
    "customer_dial_failed": _("The customer could not be dialed"),
    "caller_left": _("The caller hung up"),
    "max_wait_exceeded": _("The longest wait was reached"),
    "overflow_due": _("The longest wait was reached: the caller moves on unless the ringing agent answers"),
    "overflowed": _("The caller moved on to the overflow queue"),
}

# ITU-T Q.850 cause codes, as Asterisk reports them; the ones a contact center meets day to day.
HANGUP_CAUSES = {
    1: _("Number does not exist"),
    16: _("Normal hang-up"),
    17: _("Line busy"),
    18: _("No phone responded"),
    19: _("No answer"),
    20: _("Phone switched off or unregistered"),
    21: _("Call rejected"),
    27: _("Destination out of order"),
    28: _("Invalid number format"),
    31: _("Normal, unspecified"),
    34: _("No line available"),
    38: _("Network out of order"),
    41: _("Temporary failure"),
    42: _("Switching equipment congested"),
    127: _("Interworking, unspecified"),
}


# Ends the product itself records with its own words (telephony/core.py), which say more than any cause code.
PRODUCT_ENDS = {
    "Maximum wait exceeded": _("The longest wait was reached"),
    "Caller cancelled": _("The caller hung up before an answer"),
    "Closed by reconciliation": _("Closed after a reconnect: its lines were gone"),
    "Agent leg lost": _("The agent's line was lost"),
    "Allocation failed": _("The phone could not be rung (not registered)"),
    "Customer could not be dialed": _("The customer's number could not be dialed"),
}


def timeline_label(kind: str) -> str:
    return TIMELINE_KINDS.get(kind, kind)


def hangup_cause_label(cause: int | None, text: str = "") -> str:
    """The cause in words; Asterisk's own text for a code not listed, and nothing when neither is known."""
    if text in PRODUCT_ENDS:
        return str(PRODUCT_ENDS[text])
    if cause in HANGUP_CAUSES:
        return str(HANGUP_CAUSES[cause])
    return text
