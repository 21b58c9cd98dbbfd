"""Asterisk's configuration (pjsip.conf, extensions.conf, ari.conf, http.conf) rendered from the database and settings.

The templates live in `asterisk/templates/`; `manage.py render_asterisk_config` writes the result, checks whether the
files on disk are current, and asks a running Asterisk to reload. Values that would break Asterisk's config syntax
(a `;` starts a comment, a newline ends a value) are refused or cleaned here, before they reach a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template import Context, Engine
from django.utils.translation import gettext as _

from accounts.models import Role, User
from calls.models import Queue
from telephony.core import BLOCKED_CONTEXT, CLOSED_CONTEXT

TEMPLATES_DIR = Path(settings.BASE_DIR) / "asterisk" / "templates"
FILES = ("pjsip.conf", "extensions.conf", "ari.conf", "http.conf")
# Files that carry a secret (SIP passwords, the ARI password): written readable by their owner only.
SECRET_FILES = {"pjsip.conf", "ari.conf"}
# The context agents' phones call from; the fake ARI and the lab Asterisk use the same name.
PHONE_CONTEXT = "from-internal"

_SECTION_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# A value Asterisk reads back exactly: no comment start, no whitespace, nothing that ends a line.
_PLAIN_VALUE = re.compile(r"^[\x21-\x7e]+$")
_UNSAFE_IN_TEXT = re.compile(r'[;"<>\\\[\]\x00-\x1f\x7f]')


class AsteriskConfigError(Exception):
    """The database or the settings hold something Asterisk could not read back; the message says what."""


@dataclass(frozen=True)
class Phone:
    extension: str
    secret: str
    caller_name: str
    comment: str


@dataclass(frozen=True)
class AgentRoute:
    extension: str
    endpoint: str
    comment: str


@dataclass(frozen=True)
class QueueRoute:
    number: str
    comment: str


def plain_text(value: str, *, limit: int = 80) -> str:
    """A name as it may appear in a comment or a caller id: one line, no comment or quote characters."""
    return " ".join(_UNSAFE_IN_TEXT.sub(" ", value).split())[:limit]


def _plain_value(name: str, value: str) -> str:
    if not value or not _PLAIN_VALUE.match(value) or ";" in value:
        message = _("%(setting)s must be one word of printable ASCII without ';' (got %(value)r).")
        raise AsteriskConfigError(message % {"setting": name, "value": value})
    return value


def _rendered_users():
    """Users whose phones Asterisk must know: those the application would route a call to (see directory)."""
    return (
        User.objects.exclude(extension=None)
        .filter(is_active=True, role__in=[Role.AGENT, Role.MANAGER], company__is_active=True)
        .select_related("company")
        .order_by("extension")
    )


def _person(user: User) -> str:
    return plain_text(user.get_full_name() or user.username)


def collect(*, warnings: list[str] | None = None) -> dict:
    """Everything the templates need, read from the database and settings. Users without a SIP secret are left
    out (their phone could register without a password) and named in `warnings`."""
    warnings = warnings if warnings is not None else []
    phones, agents = [], []
    for user in _rendered_users():
        label = f"{_person(user)} ({plain_text(user.company.name)})"
        if not user.sip_secret:
            message = _("extension %(extension)s (%(username)s) has no SIP secret and is left out")
            warnings.append(message % {"extension": user.extension, "username": user.username})
            continue
        secret = user.sip_secret
        if not _PLAIN_VALUE.match(secret) or ";" in secret:
            message = _("The SIP secret of extension %(extension)s cannot be written to pjsip.conf.")
            raise AsteriskConfigError(message % {"extension": user.extension})
        phones.append(Phone(user.extension, secret, _person(user)[:40], label))
        endpoint = settings.AGENT_ENDPOINT_TEMPLATE.format(extension=user.extension)
        agents.append(AgentRoute(user.extension, _plain_value("AGENT_ENDPOINT_TEMPLATE", endpoint), label))
    queues = [
        QueueRoute(queue.number, f"{plain_text(queue.name)} ({plain_text(queue.company.name)})")
        for queue in Queue.objects.filter(is_active=True, company__is_active=True)
        .select_related("company")
        .order_by("number")
    ]
    if not _SECTION_NAME.match(settings.ARI_USER or ""):
        raise AsteriskConfigError(
            _("ARI_USER must be letters, digits, '.', '_' or '-' (it names a section of ari.conf).")
        )
    if not settings.ARI_PASS:
        raise AsteriskConfigError(_("ARI_PASS is empty: set the password the application and Asterisk share."))
    if not _SECTION_NAME.match(settings.ARI_APP or ""):
        raise AsteriskConfigError(_("ARI_APP must be letters, digits, '.', '_' or '-'."))
    prompts = {
        name: _sound_name(name)
        for name in ("ASTERISK_UNAVAILABLE_PROMPT", "ASTERISK_CLOSED_PROMPT", "ASTERISK_BLOCKED_PROMPT")
    }
    return {
        "phones": phones,
        "agents": agents,
        "queues": queues,
        "context": PHONE_CONTEXT,
        "ari_app": settings.ARI_APP,
        "ari_user": settings.ARI_USER,
        "ari_pass": _plain_value("ARI_PASS", settings.ARI_PASS),
        "ari_host": settings.ARI_HOST,
        "ari_port": int(settings.ARI_PORT),
        "http_bind": _plain_value("ASTERISK_HTTP_BIND", settings.ASTERISK_HTTP_BIND),
        "sip_bind": _plain_value("ASTERISK_SIP_BIND", settings.ASTERISK_SIP_BIND),
        "external_address": settings.ASTERISK_EXTERNAL_ADDRESS
        and _plain_value("ASTERISK_EXTERNAL_ADDRESS", settings.ASTERISK_EXTERNAL_ADDRESS),
        "media_address": settings.ASTERISK_MEDIA_ADDRESS
        and _plain_value("ASTERISK_MEDIA_ADDRESS", settings.ASTERISK_MEDIA_ADDRESS),
        "local_nets": [_plain_value("ASTERISK_LOCAL_NETS", net) for net in settings.ASTERISK_LOCAL_NETS],
        "codecs": ",".join(_plain_value("ASTERISK_CODECS", codec) for codec in settings.ASTERISK_CODECS),
        "language": _plain_value("ASTERISK_LANGUAGE", settings.ASTERISK_LANGUAGE),
        "direct_ring_timeout": int(settings.DIRECT_RING_TIMEOUT),
        "unavailable_prompt": prompts["ASTERISK_UNAVAILABLE_PROMPT"],
        "closed_prompt": prompts["ASTERISK_CLOSED_PROMPT"],
        "closed_context": CLOSED_CONTEXT,
        "blocked_prompt": prompts["ASTERISK_BLOCKED_PROMPT"],
        "blocked_context": BLOCKED_CONTEXT,
    }


def _sound_name(setting: str) -> str:
    """A setting naming sound files for Playback() ("a&b" plays both); empty: no message."""
    value = getattr(settings, setting)
    if value and not re.match(r"^[A-Za-z0-9_/&.-]+$", value):
        raise AsteriskConfigError(
            _("%(setting)s is a sound name (letters, digits, '/', '&', '-', '_').") % {"setting": setting}
        )
    return value


def _engine() -> Engine:
    # A template engine of its own: no HTML autoescaping (these are not web pages), no project context processors.
    return Engine(dirs=[str(TEMPLATES_DIR)], autoescape=False)


def render(*, warnings: list[str] | None = None) -> dict[str, str]:
    """File name → content for every file Asterisk reads from us."""
    context = Context(collect(warnings=warnings), autoescape=False)
    engine = _engine()
    return {name: engine.get_template(name).render(context) for name in FILES}


def stale_files(rendered: dict[str, str], directory: Path) -> list[str]:
    """The files in `directory` that are missing or differ from what would be rendered now."""
    stale = []
    for name, content in rendered.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(name)
    return stale


def write(rendered: dict[str, str], directory: Path) -> list[str]:
    """Write the files that changed, each atomically (a reload never reads half a file); return their names."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = stale_files(rendered, directory)
    for name in changed:
        path = directory / name
        partial = path.with_name(f".{name}.partial")
        partial.write_text(rendered[name], encoding="utf-8")
        partial.chmod(0o640 if name in SECRET_FILES else 0o644)
        partial.replace(path)
    return changed
