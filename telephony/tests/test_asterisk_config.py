"""Asterisk's configuration rendered from the database: golden files, Asterisk's syntax, where every number goes."""

import os
from pathlib import Path

import pytest
from django.utils import translation

from accounts.models import Role, User
from accounts.services import user_create
from telephony import asterisk_config
from telephony.core import BLOCKED_CONTEXT, CLOSED_CONTEXT
from telephony.tests.asterisk_dialect import ConfigSyntaxError, Dialplan, parse


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; Korean is the default language (see the catalog test)."""
    with translation.override("en"):
        yield


GOLDEN = Path(__file__).parent / "golden"
SAMPLE = Path(__file__).resolve().parents[2] / "asterisk" / "sample"


@pytest.mark.parametrize("name", asterisk_config.FILES)
def test_rendering_the_demo_company_matches_the_golden_file(demo_company, name):
    rendered = asterisk_config.render()[name]
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", asterisk_config.FILES)
def test_committed_sample_configuration_is_the_golden_rendering(name):
    assert (SAMPLE / name).read_text(encoding="utf-8") == (GOLDEN / name).read_text(encoding="utf-8")


def test_every_rendered_file_parses_as_asterisk_config(demo_company):
    for name, text in asterisk_config.render().items():
        assert parse(text).sections, name


def test_every_active_phone_registers_with_its_own_secret_and_one_contact(demo_company):
    pjsip = parse(asterisk_config.render()["pjsip.conf"])
    endpoints, auths, aors = pjsip.of_type("endpoint"), pjsip.of_type("auth"), pjsip.of_type("aor")
    assert sorted(endpoints) == ["1001", "1002", "1090"]  # inactive user, closed company, no extension: left out
    for extension in endpoints:
        assert endpoints[extension]["auth"] == [extension]
        assert endpoints[extension]["aors"] == [extension]
        assert endpoints[extension]["context"] == ["from-internal"]
        assert auths[extension]["password"] == [f"sample-secret-{extension}"]
        assert auths[extension]["username"] == [extension]
        assert aors[extension]["max_contacts"] == ["1"]
    assert pjsip.of_type("transport")["transport-udp"]["bind"] == ["0.0.0.0:5060"]


def test_a_name_cannot_break_out_of_its_caller_id_or_comment(demo_company):
    pjsip = parse(asterisk_config.render()["pjsip.conf"])
    assert pjsip.of_type("endpoint")["1002"]["callerid"] == ['"Lee Ace Jun-ho" <1002>']


def test_every_agent_extension_and_queue_number_reaches_stasis_with_the_dialed_number(demo_company):
    dialplan = Dialplan.from_text(asterisk_config.render()["extensions.conf"])
    for number in ["1001", "1002", "1090", "5000", "5001"]:
        trace = dialplan.walk("from-internal", number, channel={"STASISSTATUS": "SUCCESS"})
        assert ("Stasis", f"pbx_ari,{number}") in trace, number
    for gone in ["1003", "2001", "5002", "6000"]:
        trace = dialplan.walk("from-internal", gone)
        assert ("Stasis", f"pbx_ari,{gone}") not in trace
        assert trace[-1] == ("Hangup", "1")  # unallocated number, not a silent drop


@pytest.mark.parametrize(
    ("dialstatus", "cause"),
    [("ANSWER", "16"), ("BUSY", "17"), ("NOANSWER", "19"), ("CHANUNAVAIL", "20"), ("CONGESTION", "34")],
)
def test_with_no_application_an_agent_extension_rings_the_phone_directly(demo_company, dialstatus, cause):
    dialplan = Dialplan.from_text(asterisk_config.render()["extensions.conf"])
    trace = dialplan.walk("from-internal", "1001", channel={"STASISSTATUS": "FAILED", "DIALSTATUS": dialstatus})
    assert ("Dial", "PJSIP/1001,20") in trace
    assert trace[-1] == ("Hangup", cause)


def test_with_no_application_a_queue_caller_hears_why_and_gets_congestion(demo_company):
    dialplan = Dialplan.from_text(asterisk_config.render()["extensions.conf"])
    trace = dialplan.walk("from-internal", "5000", channel={"STASISSTATUS": "FAILED"})
    assert ("Playback", "all-circuits-busy-now&pls-try-call-later,noanswer") in trace
    assert not any(app == "Dial" for app, _data in trace)
    assert trace[-1] == ("Hangup", "34")


def test_with_no_message_configured_a_queue_caller_still_gets_a_clear_hangup(demo_company, settings):
    settings.ASTERISK_UNAVAILABLE_PROMPT = ""
    dialplan = Dialplan.from_text(asterisk_config.render()["extensions.conf"])
    trace = dialplan.walk("from-internal", "5001", channel={"STASISSTATUS": "FAILED"})
    assert not any(app == "Playback" for app, _data in trace)
    assert trace[-1] == ("Hangup", "34")


def test_a_queue_caller_sent_back_after_hours_hears_the_closed_message_unanswered(demo_company):
    # The engine continues the caller in this context with the queue's number (telephony.core, ContinueInDialplan).
    dialplan = Dialplan.from_text(asterisk_config.render()["extensions.conf"])
    trace = dialplan.walk(CLOSED_CONTEXT, "5000")
    assert ("Progress", "") in trace
    assert ("Playback", "pls-try-call-later,noanswer") in trace
    assert not any(app in ("Answer", "Dial", "Stasis") for app, _data in trace)
    assert trace[-1] == ("Hangup", "16")


def test_without_a_closed_message_the_caller_sent_back_after_hours_is_hung_up_plainly(demo_company, settings):
    settings.ASTERISK_CLOSED_PROMPT = ""
    dialplan = Dialplan.from_text(asterisk_config.render()["extensions.conf"])
    trace = dialplan.walk(CLOSED_CONTEXT, "5001")
    assert not any(app in ("Playback", "Progress") for app, _data in trace)
    assert trace[-1] == ("Hangup", "16")


def test_a_closed_message_that_is_not_a_sound_name_is_refused(demo_company, settings):
    settings.ASTERISK_CLOSED_PROMPT = "closed;Hangup()"
    with pytest.raises(asterisk_config.AsteriskConfigError, match="ASTERISK_CLOSED_PROMPT is a sound name"):
        asterisk_config.render()


def test_ari_and_http_follow_the_settings(demo_company, settings):
    settings.ARI_USER, settings.ARI_PASS, settings.ARI_PORT = "ops", "another-secret", 8089
    settings.ASTERISK_HTTP_BIND = "10.0.0.5"
    rendered = asterisk_config.render()
    ari, http = parse(rendered["ari.conf"]), parse(rendered["http.conf"])
    assert ari.options(ari.named("ops")[0])["password"] == ["another-secret"]
    assert http.options(http.named("general")[0])["bindaddr"] == ["10.0.0.5"]
    assert http.options(http.named("general")[0])["bindport"] == ["8089"]


def test_a_semicolon_in_the_ari_password_is_refused_rather_than_cut_at_the_comment(demo_company, settings):
    settings.ARI_PASS = "secret;rest"
    with pytest.raises(asterisk_config.AsteriskConfigError, match="ARI_PASS"):
        asterisk_config.render()


def test_an_extension_without_a_sip_secret_is_left_out_and_named(demo_company):
    user_create(
        username="nosecret", password="x", role=Role.AGENT, company=demo_company, extension="1004", validate=False
    )
    User.objects.filter(username="nosecret").update(sip_secret="")
    warnings: list[str] = []
    pjsip = parse(asterisk_config.render(warnings=warnings)["pjsip.conf"])
    assert "1004" not in pjsip.of_type("endpoint")
    assert warnings == ["extension 1004 (nosecret) has no SIP secret and is left out"]


@pytest.mark.parametrize(
    "text",
    [
        "key = value\n",  # before any section
        "[general\nkey = value\n",  # unterminated header
        "[a](missing)\ntype = aor\n",  # template not defined
        "[a]\njust words\n",  # neither section nor key = value
    ],
)
def test_the_dialect_reader_refuses_what_asterisk_would_not_read(text):
    with pytest.raises(ConfigSyntaxError):
        parse(text)


def test_the_dialplan_reader_refuses_a_same_line_with_no_extension_and_unbalanced_parentheses():
    with pytest.raises(ConfigSyntaxError):
        Dialplan.from_text("[ctx]\nsame => n,NoOp(x)\n")
    with pytest.raises(ConfigSyntaxError):
        Dialplan.from_text("[ctx]\nexten => 1,1,NoOp(x\n")


def test_a_blocked_caller_sent_back_is_refused_with_call_rejected(demo_company, settings):
    dialplan = Dialplan.from_text(asterisk_config.render()["extensions.conf"])
    trace = dialplan.walk(BLOCKED_CONTEXT, "1001")
    assert not any(app in ("Playback", "Answer", "Dial", "Stasis") for app, _data in trace)
    assert trace[-1] == ("Hangup", "21")
    settings.ASTERISK_BLOCKED_PROMPT = "custom/blocked-ko"
    trace = Dialplan.from_text(asterisk_config.render()["extensions.conf"]).walk(BLOCKED_CONTEXT, "5000")
    assert ("Progress", "") in trace and ("Playback", "custom/blocked-ko,noanswer") in trace
    assert trace[-1] == ("Hangup", "21")
