"""Ids typed into URLs and forms: "²" passes str.isdigit() but not int(); no page may answer such input with a 500."""

import pytest
from django.test import Client

from pbx.ids import parse_id

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "²"


def test_parse_id_takes_only_ascii_digits_within_a_bigint():
    assert parse_id("42") == 42 and parse_id(42) == 42
    for text in (SUPERSCRIPT_TWO, "١٠", "", None, "0", "-1", "1e3", " 7", str(2**63)):
        assert parse_id(text) is None, text


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "method", "url", "data"),
    [
        ("agent", "post", "/console/agent/state/", {"to_state": "AWAY", "pause_reason": SUPERSCRIPT_TWO}),
        ("agent", "post", "/console/agent/after-call/", {"choice": f"AWAY:{SUPERSCRIPT_TWO}"}),
        ("manager", "post", "/console/wallboard/agents/{agent}/state/", {"choice": f"AWAY:{SUPERSCRIPT_TWO}"}),
        ("admin", "get", "/console/wallboard/", {"company": SUPERSCRIPT_TWO}),
        ("admin", "get", "/console/pause-reasons/", {"company": SUPERSCRIPT_TWO}),
        ("admin", "get", "/calls/", {"company": SUPERSCRIPT_TWO}),
        ("admin", "get", "/calls/export.csv", {"company": SUPERSCRIPT_TWO}),
        ("admin", "get", "/calls/queues/new/", {"company": SUPERSCRIPT_TWO}),
        ("admin", "post", "/calls/queues/new/", {"company": SUPERSCRIPT_TWO}),
        ("admin", "post", "/companies/new/", {"name": "X", "extension_start": SUPERSCRIPT_TWO, "extension_end": "9"}),
    ],
)
def test_a_unicode_digit_where_an_id_goes_is_no_server_error(role, method, url, data, agent_a, manager_a, admin_user):
    user = {"agent": agent_a, "manager": manager_a, "admin": admin_user}[role]
    response = getattr(_client(user), method)(url.format(agent=agent_a.pk), data)
    assert response.status_code < 500


def test_a_unicode_digit_for_the_agent_of_a_callback_is_refused_with_a_message(manager_a, company_a):
    from django.utils import timezone

    from calls.services import call_end, call_start

    call_start(caller_channel_id="missed.typed", dialed_number="5000", caller_number="01055556666", caller_name="",
               company_id=company_a.pk, queue_id=None, agent_id=None, at=timezone.now())  # fmt: skip
    call_end(caller_channel_id="missed.typed", disposition="ABANDONED", hangup_by="CALLER", cause=16, cause_text="",
             at=timezone.now())  # fmt: skip
    from calls.models import Call

    missed = Call.objects.get(caller_channel_id="missed.typed")
    response = _client(manager_a).post(f"/console/missed/{missed.pk}/call-back/", {"agent": SUPERSCRIPT_TWO})
    assert response.status_code == 302 and not Call.objects.filter(callback_of=missed).exists()
