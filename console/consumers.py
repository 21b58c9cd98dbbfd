"""/ws/console/: pushes the console's panels, rendered as HTML, to the agent console and the wallboard.

The socket is session-authenticated (AuthMiddlewareStack) and origin-checked (pbx.asgi). On connect it sends every
panel of the page, so a reconnect after a drop catches up with whatever it missed; afterwards each `agent.changed` or
`call.changed` message re-renders only the panels it touches, from the database, in the viewer's language and their
company's time zone. htmx's ws extension swaps the fragments in by id (hx-swap-oob).
"""

import asyncio
import logging
import time
from collections import OrderedDict
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation.trans_real import get_supported_language_variant, parse_accept_lang_header

from accounts.live import agent_group, company_group, user_sockets_group
from accounts.models import Role, User
from accounts.security import session_user
from calls.selectors import zone_of
from companies.models import Company
from console import panels
from pbx.ids import parse_id

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# How long a socket may push without checking that its session still holds, when no message said it changed.
ACCESS_RECHECK_SECONDS = 30.0
# Call changes come in bursts (ring, answer, hang up); the wallboard's figures are recomputed at most this often.
FIGURES_DEBOUNCE_SECONDS = 0.3


MISSED_REFRESH = (
    '<div id="missed-refresh" hx-swap-oob="true" hx-get="?part=list" hx-trigger="load" hx-target="#missed-list" '
    'hx-swap="outerHTML"></div>'
)

# Fragments rendered for one change, shared by every wallboard of this process (50 wallboards: one render, not 50).
# Keyed by the change's event id (or a debounce window), so a render is reused only by consumers told of that change.
_SHARED_LIMIT = 4096
_shared: OrderedDict = OrderedDict()


async def _shared_render(key, render):
    if key is None:
        return await render()
    future = _shared.get(key)
    if future is None:
        future = asyncio.get_running_loop().create_future()
        _shared[key] = future
        while len(_shared) > _SHARED_LIMIT:
            _shared.popitem(last=False)
        try:
            future.set_result(await render())
        except Exception as error:
            _shared.pop(key, None)
            future.set_exception(error)
            future.exception()  # retrieved: the other waiters see it, and asyncio does not log it again
            raise
    return await future


def _language(scope) -> str:
    """The language a page load would use: the language cookie, else Accept-Language, else Korean."""
    headers = dict(scope.get("headers") or [])
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # a malformed cookie header only costs the preference
        cookie = SimpleCookie()
    candidates = []
    if settings.LANGUAGE_COOKIE_NAME in cookie:
        candidates.append(cookie[settings.LANGUAGE_COOKIE_NAME].value)
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    candidates += [code for code, _q in parse_accept_lang_header(accept) if code != "*"]
    for code in candidates:
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _page_scope(user: User, page: str, company_raw: str):
    """What a console page of `user` shows: (company, selectable pause reasons, groups to listen to), or None if the
    user may not open it."""
    if page == "agent" and user.role == Role.AGENT:
        return user.company, panels.selectable_reasons(user.company_id), (agent_group(user.pk),)
    if page == "missed":
        # Calls of the companies whose missed calls the user sees (an agent's own company, an admin's all).
        companies = Company.objects.visible_to(user).values_list("pk", flat=True)
        return None, [], tuple(company_group(pk) for pk in companies)
    if page == "wallboard" and user.role in (Role.MANAGER, Role.SYSTEM_ADMIN):
        company = None
        if user.role == Role.MANAGER:
            company = user.company
        elif (company_id := parse_id(company_raw)) is not None:
            company = Company.objects.visible_to(user).filter(pk=company_id).first()
        if company is None:
            return None
        return company, panels.selectable_reasons(company.pk), (company_group(company.pk),)
    return None


class ConsoleConsumer(AsyncWebsocketConsumer):
    page: str = ""
    user: User | None = None
    company: Company | None = None
    reasons: list = []
    groups_joined: tuple[str, ...] = ()
    agents_shown: frozenset[int] = frozenset()  # the wallboard's rows, to tell a new or departed agent
    session_key: str | None = None
    company_raw: str = ""
    access_checked_at: float = 0.0
    ended = False  # closed for lost access: pushes already on their way are not sent

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        query = parse_qs((self.scope.get("query_string") or b"").decode("latin-1"))
        self.page = (query.get("page") or [""])[0]
        self.language = _language(self.scope)
        self.figures_pending = self.refresh_pending = False
        self.company_raw = (query.get("company") or [""])[0]
        self.session_key = self.scope["session"].session_key
        self.access_checked_at = time.monotonic()
        found = await self._resolve(user, self.company_raw)
        if not found:
            await self._refuse(CLOSE_FORBIDDEN)
            return
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        if self.page == "missed":
            await self._ask_missed_refresh()  # catch up with calls that ended while the socket was down
            return
        await self._send_panels(self._all_panels())

    async def _refuse(self, code: int):
        # A socket closed before it is accepted reaches the browser as a failed handshake (code 1006), and htmx retries
        # it forever: a page whose session ended while its socket was down (a laptop asleep, a sign-out racing the
        # reload) would sit there stale. Accepted and then closed, the page gets the code and reloads (console.js).
        await self.accept()
        await self._end(code)

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    @database_sync_to_async
    def _resolve(self, user, company_raw: str) -> bool:
        user = User.objects.select_related("company").get(pk=user.pk)
        scope = _page_scope(user, self.page, company_raw)
        if scope is None:
            return False
        self.user = user
        self.company, self.reasons, groups = scope
        self.groups_joined = (*groups, user_sockets_group(user.pk))
        return True

    # --- access: the socket was opened by a signed-in user, who may since have lost the right to watch -------------

    async def session_ended(self, event):
        if event.get("session_key") == self.session_key:
            await self._end(CLOSE_UNAUTHENTICATED)

    async def access_changed(self, event):
        await self._check_access()

    async def _access_holds(self) -> bool:
        """Before a push, at most every ACCESS_RECHECK_SECONDS: the session may have expired, or been signed out or
        changed by a path that sends no message (the admin's password form)."""
        if time.monotonic() - self.access_checked_at < ACCESS_RECHECK_SECONDS:
            return True
        return await self._check_access()

    async def _check_access(self) -> bool:
        self.access_checked_at = time.monotonic()
        try:
            code = await self._access_lost()
        except Exception:
            logger.exception("could not check the console socket of user %s", self.user and self.user.pk)
            return True  # a database hiccup is no reason to drop a wallboard; the next check decides
        if code is not None:
            await self._end(code)
            return False
        return True

    @database_sync_to_async
    def _access_lost(self) -> int | None:
        """None while the socket may go on; else the close code: 4401 signed out, 4403 no longer allowed this page
        (a new role or company), so the page reloads into what the user may now see."""
        user = session_user(self.session_key)
        if user is None or user.pk != self.user.pk:
            return CLOSE_UNAUTHENTICATED
        scope = _page_scope(user, self.page, self.company_raw)
        if scope is None or scope[0] != self.company or (*scope[2], user_sockets_group(user.pk)) != self.groups_joined:
            return CLOSE_FORBIDDEN
        self.user, self.reasons = user, scope[1]  # a renamed user or new pause reasons show from now on
        return None

    async def _end(self, code: int):
        self.ended = True
        await self.close(code=code)

    async def dispatch(self, message):
        # Channels' own dispatch first closes stale database connections on the single sync thread, for every message
        # of every consumer: one agent change told to 50 wallboards queued 50 such hops behind the renders. Every
        # database access of this consumer goes through database_sync_to_async, which closes them itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- messages from the groups ----------------------------------------------------------------------------------

    async def send(self, text_data=None, bytes_data=None, close=False):
        if self.ended:  # renders that were under way when access was lost are dropped
            return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def agent_changed(self, event):
        if self.page == "missed" or not await self._access_holds():
            return
        if self.page == "agent":
            await self._send_panels(("agent-state", "current-call"))
        else:
            await self._send_agent_row(event.get("agent_id"), event.get("event_id"))

    async def call_changed(self, event):
        if not await self._access_holds():
            return
        if self.page == "missed":
            if not self.refresh_pending:  # a burst of call changes asks for one refresh
                self.refresh_pending = True
                asyncio.get_running_loop().call_later(
                    FIGURES_DEBOUNCE_SECONDS, lambda: asyncio.ensure_future(self._ask_missed_refresh())
                )
            return
        if self.page == "agent":
            await self._send_panels(("current-call", "my-calls"))
            return
        event_id = event.get("event_id")
        await self._send_panels(("queues-waiting",), shared_key=("queues-waiting", event_id) if event_id else None)
        if not self.figures_pending:
            self.figures_pending = True
            asyncio.get_running_loop().call_later(
                FIGURES_DEBOUNCE_SECONDS, lambda: asyncio.ensure_future(self._send_figures())
            )

    async def _send_figures(self):
        self.figures_pending = False
        # Every wallboard whose timer fires in the same window shares one render; it started after their changes.
        window = int(time.monotonic() / FIGURES_DEBOUNCE_SECONDS)
        await self._send_panels(("figures",), shared_key=("figures", window))

    async def _ask_missed_refresh(self):
        """The missed-calls list holds call-back forms, which need the page's own request (its CSRF token): the
        socket does not render it, it swaps in an element that makes the page fetch its list again."""
        self.refresh_pending = False
        await self.send(text_data=MISSED_REFRESH)

    # --- rendering ---------------------------------------------------------------------------------------------------

    def _all_panels(self):
        return panels.AGENT_PANELS if self.page == "agent" else panels.WALLBOARD_PANELS

    async def _send_panels(self, names, *, shared_key=None):
        if shared_key is not None:
            shared_key = (*shared_key, self.page, self.company.pk if self.company else None, self.language)
        try:
            html, agents = await _shared_render(shared_key, lambda: self._render(names))
        except Exception:
            logger.exception("could not render console panels %s for user %s", names, self.user and self.user.pk)
            return
        if agents is not None:
            self.agents_shown = agents
        await self.send(text_data=html)

    @database_sync_to_async
    def _render(self, names) -> tuple[str, frozenset[int] | None]:
        """The panels' HTML, and for a wallboard's agents panel the agents it shows."""
        with translation.override(self.language), timezone.override(zone_of(self.company)):
            if self.page == "agent":
                context = panels.agent_context(self.user, reasons=self.reasons)
                return panels.render_panels(panels.AGENT_TEMPLATE, names, context), None
            context = panels.wallboard_context(self.company, viewer=self.user, reasons=self.reasons, parts=names)
            agents = frozenset(agent.pk for agent in context["agents"]) if "agents" in context else None
            return panels.render_panels(panels.WALLBOARD_TEMPLATE, names, context), agents

    async def _send_agent_row(self, agent_id, event_id=None):
        if not isinstance(agent_id, int):
            return
        key = ("agent-row", event_id, self.company.pk, agent_id, self.language) if event_id else None
        try:
            html = await _shared_render(key, lambda: self._render_agent_row(agent_id))
        except Exception:
            logger.exception("could not render agent row %s for user %s", agent_id, self.user and self.user.pk)
            return
        if bool(html) != (agent_id in self.agents_shown):
            # A new agent has no row to swap, a departed one a row to drop: the whole list is drawn again, and the
            # figures, whose per-agent table lists the same agents.
            shared = ("roster", event_id) if event_id else None
            await self._send_panels(("wallboard-agents", "figures"), shared_key=shared)
        elif html:
            await self.send(text_data=html)

    @database_sync_to_async
    def _render_agent_row(self, agent_id: int) -> str:
        with translation.override(self.language), timezone.override(zone_of(self.company)):
            context = panels.agent_row_context(
                agent_id, company_id=self.company.pk, viewer=self.user, reasons=self.reasons
            )
            if context is None:
                return ""
            context["oob"] = True
            return render_to_string(f"{panels.WALLBOARD_TEMPLATE}#agent-row", context)
