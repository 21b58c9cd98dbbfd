"""What each live panel of the console shows, rendered the same way for a page load, an htmx swap and a socket push.

A push re-renders a panel from the database, so a missed push is repaired by the next one or by a reload.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from lucide.templatetags.lucide import lucide as lucide_icon

from accounts.models import User
from accounts.states import MANUAL_STATES, ActivityState
from calls import selectors
from companies.models import PauseReason

AGENT_TEMPLATE = "console/agent.html"
WALLBOARD_TEMPLATE = "console/wallboard.html"
AGENT_PANELS = ("agent-state", "current-call", "my-calls")
WALLBOARD_PANELS = ("wallboard-agents", "queues-waiting", "figures")


def selectable_reasons(company_id: int | None) -> list[PauseReason]:
    if company_id is None:
        return []
    return list(PauseReason.objects.selectable().filter(company_id=company_id).order_by("position", "id"))


def row_parts(reasons: list[PauseReason]) -> dict:
    """What every agent row of a wallboard repeats, rendered once: 500 rows each re-rendering the same select and
    icons would make a wallboard take seconds to draw."""
    options = [(ActivityState.READY.value, str(ActivityState.READY.label))]
    options += [(f"AWAY:{r.pk}", f"{ActivityState.AWAY.label}: {r.name}") for r in reasons]
    options += [(s.value, str(s.label)) for s in (ActivityState.TRAINING, ActivityState.DISABLED)]
    return {
        # reverse() once; every row's form posts to <prefix><agent id>/state/.
        "url_prefix": reverse("console:wallboard_agent_state", args=[0]).removesuffix("0/state/"),
        "options": format_html_join("", '<option value="{}">{}</option>', options),
        "check_icon": lucide_icon("check", size=14),
        "phone_off_icon": lucide_icon("phone-off", size=13),
        "phone_off_label": _("Phone not registered"),
        "no_extension_label": _("No extension: no calls reach this agent"),
        "set_state_label": _("Set state"),
        "apply_label": _("Apply"),
        "limit_label": _("Limit"),
    }


def agent_actions(agent: User) -> list[str]:
    """The state buttons an agent gets: the manual states they may move to from where they are now."""
    state = agent.activity_state
    if state in (ActivityState.CALLING, ActivityState.ON_CALL, ActivityState.DISABLED):
        return []
    return [s for s in MANUAL_STATES if s != state or s == ActivityState.AWAY]


def agent_context(agent: User, *, reasons: list[PauseReason] | None = None) -> dict:
    agent = User.objects.select_related("pause_reason", "after_call_reason", "company").get(pk=agent.pk)
    return {
        "agent": agent,
        "reasons": selectable_reasons(agent.company_id) if reasons is None else reasons,
        "actions": agent_actions(agent),
        "current_call": selectors.agent_current_call(agent=agent),
        "day": selectors.agent_today(agent=agent),
        "now": timezone.now(),
        "States": ActivityState,
    }


def wallboard_context(
    company, *, viewer: User, reasons: list[PauseReason] | None = None, parts=WALLBOARD_PANELS
) -> dict:
    """Only the parts asked for are read, so a push of the waiting calls does not recompute the day's figures."""
    reasons = selectable_reasons(company.pk) if reasons is None else reasons
    context = {
        "company": company,
        "viewer": viewer,
        "reasons": reasons,
        "now": timezone.now(),
        "States": ActivityState,
    }
    if "wallboard-agents" in parts:
        context["agents"] = list(selectors.wallboard_agents(company_id=company.pk))
        context["row"] = row_parts(reasons)
    if "queues-waiting" in parts:
        context["waiting"] = selectors.queues_waiting(company_id=company.pk)
    if "figures" in parts:
        context["figures"] = selectors.wallboard_figures(company=company)
    return context


def agent_row_context(agent_id: int, *, company_id: int, viewer: User, reasons: list[PauseReason]) -> dict | None:
    agent = (
        User.objects.agents()
        .filter(pk=agent_id, company_id=company_id, is_active=True)
        .select_related("pause_reason")
        .first()
    )
    if agent is None:
        return None
    return {"a": agent, "viewer": viewer, "row": row_parts(reasons), "now": timezone.now(), "States": ActivityState}


def render_panels(template: str, names, context: dict) -> str:
    """Panels as out-of-band fragments: each root element carries its id and hx-swap-oob."""
    context = {**context, "oob": True}
    return "".join(render_to_string(f"{template}#{name}", context) for name in names)
