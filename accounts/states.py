"""Agent activity states and who may move an agent between them: a pure table, no database."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityState(models.TextChoices):
    READY = "READY", _("Ready")
    CALLING = "CALLING", _("Ringing")
    ON_CALL = "ON_CALL", _("On call")
    POST_PROCESSING = "POST_PROCESSING", _("Wrap-up")
    AWAY = "AWAY", _("Away")
    TRAINING = "TRAINING", _("Training")
    DISABLED = "DISABLED", _("Disabled")


class ChangeSource(models.TextChoices):
    SELF = "SELF", _("Agent")
    SUPERVISOR = "SUPERVISOR", _("Manager or admin")
    TELEPHONY = "TELEPHONY", _("Telephony")


S = ActivityState

# Agents move themselves between the idle states and end their own wrap-up.
_SELF = {
    (S.READY, S.AWAY), (S.READY, S.TRAINING),
    (S.AWAY, S.READY), (S.AWAY, S.TRAINING),
    (S.TRAINING, S.READY), (S.TRAINING, S.AWAY),
    (S.POST_PROCESSING, S.READY), (S.POST_PROCESSING, S.AWAY), (S.POST_PROCESSING, S.TRAINING),
}  # fmt: skip

# Managers and admins can do what an agent can, disable and re-enable; never touch a call in progress.
_IDLE = (S.READY, S.AWAY, S.TRAINING, S.POST_PROCESSING)
_SUPERVISOR = (
    _SELF
    | {(state, S.DISABLED) for state in _IDLE}
    | {(S.DISABLED, S.READY), (S.DISABLED, S.AWAY), (S.DISABLED, S.TRAINING)}
)

# Only the telephony core rings, connects and frees agents.
_TELEPHONY = {
    (S.READY, S.CALLING),            # claimed for a call
    (S.CALLING, S.ON_CALL),          # answered
    (S.CALLING, S.READY),            # caller left or the offer was withdrawn
    (S.CALLING, S.AWAY),             # missed offer: auto-pause
    (S.ON_CALL, S.POST_PROCESSING),  # call ended: wrap-up
    (S.ON_CALL, S.READY),            # a call with no wrap-up time
    (S.POST_PROCESSING, S.READY),    # wrap-up time over
    (S.POST_PROCESSING, S.AWAY),     # wrap-up over, the agent chose AWAY for after this call
    (S.POST_PROCESSING, S.TRAINING), # likewise TRAINING
}  # fmt: skip

ALLOWED: dict[str, set[tuple[str, str]]] = {
    ChangeSource.SELF: _SELF,
    ChangeSource.SUPERVISOR: _SUPERVISOR,
    ChangeSource.TELEPHONY: _TELEPHONY,
}

# States an agent (or a manager for them) may pick by hand, and what may follow a call.
MANUAL_STATES = (S.READY, S.AWAY, S.TRAINING)
AFTER_CALL_STATES = (S.READY, S.AWAY, S.TRAINING)


def is_allowed(*, source: str, from_state: str, to_state: str) -> bool:
    return (from_state, to_state) in ALLOWED[source]
