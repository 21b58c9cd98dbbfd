"""The login rate limit and the security record, shared by the web login and the API login."""

import ipaddress
from datetime import datetime, timedelta
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user
from django.utils import timezone
from django_ratelimit.core import get_usage

from accounts.models import AuthEvent


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the address the outermost
    of them saw (counted from the right of X-Forwarded-For, so a client cannot forge its way past the limit)."""
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-hops]))
    except ValueError:
        return remote


def ratelimit_ip(request) -> str:
    """For django-ratelimit (RATELIMIT_IP_META_KEY): the same address, never empty."""
    return client_ip(request) or "0.0.0.0"


def _username_key(group, request) -> str:
    return (request.POST.get("username") or "").strip().lower()


# One count for every way in (the web form and the API): otherwise each would give its own LOGIN_RATE of guesses.
LOGIN_RATE_GROUP = "login"


def _login_usage(request, *, username: str | None, increment: bool) -> bool:
    name = (username if username is not None else _username_key(LOGIN_RATE_GROUP, request)).strip().lower()
    limited = False
    for scope, key in ((f"{LOGIN_RATE_GROUP}.ip", "ip"), (f"{LOGIN_RATE_GROUP}.user", lambda g, r: name)):
        usage = get_usage(request, group=scope, key=key, rate=settings.LOGIN_RATE, increment=increment)
        # Without incrementing, the count is the failures so far: at the limit, the next attempt is refused.
        limited |= usage is not None and usage["count"] >= usage["limit"]
    return limited


def login_is_rate_limited(request, *, username: str | None = None) -> bool:
    """True once a client IP or a username has had LOGIN_RATE failed sign-ins (5 a minute by default).

    Only failures count (see login_failed): a contact center signs in a whole shift from one office address, and
    those sign-ins must not lock each other out. Both keys count, so neither many usernames from one address nor one
    username from many addresses get more guesses.
    """
    return _login_usage(request, username=username, increment=False)


def login_failed(request, *, username: str | None = None) -> None:
    """Count a failed sign-in against the client IP and the username."""
    _login_usage(request, username=username, increment=True)


def auth_event_record(*, kind: str, request=None, user=None, username: str = "") -> AuthEvent:
    return AuthEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )


# The shortest time the security record is kept, whatever the setting says (the law's minimum for access records).
LOGIN_RECORD_MIN_DAYS = 365
LOGIN_RECORD_PRUNE_BATCH = 5_000


def login_record_cutoff(*, now: datetime | None = None) -> datetime | None:
    """Login events from before this moment are no longer kept; None: they are kept forever."""
    days = settings.LOGIN_RECORD_RETENTION_DAYS
    if not days:
        return None
    return (now or timezone.now()) - timedelta(days=max(days, LOGIN_RECORD_MIN_DAYS))


def login_records_prune(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete (or, with dry_run, count) the login events older than the retention, a batch per statement so a first
    run over years of them holds no long lock."""
    cutoff = login_record_cutoff(now=now)
    if cutoff is None:
        return 0
    old = AuthEvent.objects.filter(at__lt=cutoff)
    if dry_run:
        return old.count()
    deleted = 0
    while ids := list(old.order_by("at", "id").values_list("id", flat=True)[:LOGIN_RECORD_PRUNE_BATCH]):
        deleted += AuthEvent.objects.filter(id__in=ids).delete()[0]
    return deleted


def session_user(session_key: str | None):
    """The active user a web session is signed in as now, or None: the session expired, was signed out, or its
    password hash no longer matches (a password change elsewhere). The same check a page request makes, for a socket
    opened long ago."""
    if not session_key:
        return None
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=session))
    return user if user.is_authenticated and user.is_active else None
