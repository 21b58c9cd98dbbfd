"""manage.py render_asterisk_config: writes the files, says which are stale, reloads a running Asterisk over ARI."""

import asyncio
import socket
import stat
import threading
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.models import Role
from accounts.services import user_create
from telephony.fake_ari import FakeAsterisk


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; Korean is the default language (see the catalog test)."""
    with translation.override("en"):
        yield


def render(*args) -> str:
    out = StringIO()
    call_command("render_asterisk_config", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_writes_the_four_files_with_secrets_readable_by_the_owner_only(demo_company, tmp_path):
    output = render("--output", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ari.conf", "extensions.conf", "http.conf", "pjsip.conf"]
    assert "Wrote" in output
    assert stat.S_IMODE((tmp_path / "pjsip.conf").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "ari.conf").stat().st_mode) == 0o640
    assert "sample-secret-1001" in (tmp_path / "pjsip.conf").read_text()


def test_check_passes_when_the_files_are_current(demo_company, tmp_path):
    render("--output", str(tmp_path))
    assert "Current" in render("--output", str(tmp_path), "--check")


def test_check_names_the_stale_files_after_a_new_agent_and_writes_nothing(demo_company, tmp_path):
    render("--output", str(tmp_path))
    before = (tmp_path / "pjsip.conf").read_text()
    user_create(
        username="newcomer",
        password="x",
        role=Role.AGENT,
        company=demo_company,
        extension="1005",
        validate=False,
    )
    with pytest.raises(CommandError, match=r"Stale in .*: pjsip\.conf, extensions\.conf\."):
        render("--output", str(tmp_path), "--check")
    assert (tmp_path / "pjsip.conf").read_text() == before


def test_check_says_a_missing_directory_is_stale(demo_company, tmp_path):
    with pytest.raises(CommandError, match="pjsip.conf, extensions.conf, ari.conf, http.conf"):
        render("--output", str(tmp_path / "nowhere"), "--check")


def test_a_second_render_with_nothing_changed_rewrites_nothing(demo_company, tmp_path):
    render("--output", str(tmp_path))
    assert "Unchanged" in render("--output", str(tmp_path))


@pytest.fixture
def fake_asterisk(settings):
    """The project's fake Asterisk on a loopback port, in a loop of its own (the command under test is sync)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeAsterisk(user="pbx", password="pbx-dev-secret")
    port = asyncio.run_coroutine_threadsafe(fake.start(host="127.0.0.1", port=0), loop).result(10)
    settings.ARI_HOST, settings.ARI_PORT = "127.0.0.1", port
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_reload_asks_asterisk_to_reload_pjsip_and_the_dialplan(demo_company, tmp_path, fake_asterisk):
    output = render("--output", str(tmp_path), "--reload")
    reloads = [(r["method"], r["path"], r["status"]) for r in fake_asterisk.requests]
    assert reloads == [
        ("PUT", "/ari/asterisk/modules/res_pjsip.so", 204),
        ("PUT", "/ari/asterisk/modules/pbx_config.so", 204),
    ]
    assert "Asterisk reloaded res_pjsip.so, pbx_config.so" in output


def test_reload_with_a_wrong_ari_password_says_asterisk_refused(demo_company, tmp_path, fake_asterisk, settings):
    settings.ARI_PASS = "wrong-password"
    with pytest.raises(CommandError, match="refused the reload.*401"):
        render("--output", str(tmp_path), "--reload")
    assert (tmp_path / "pjsip.conf").exists()  # written before the reload was tried


def test_reload_when_asterisk_is_not_running_says_so_and_keeps_the_files(demo_company, tmp_path, settings):
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        settings.ARI_HOST, settings.ARI_PORT = "127.0.0.1", probe.getsockname()[1]
    with pytest.raises(CommandError, match="is not reachable.*the files are written"):
        render("--output", str(tmp_path), "--reload")
    assert (tmp_path / "extensions.conf").exists()


def test_reload_without_ari_configured_says_how_to_reload_by_hand(demo_company, tmp_path, settings):
    settings.ARI_HOST = ""
    with pytest.raises(CommandError, match="ARI is not configured.*module reload res_pjsip.so"):
        render("--output", str(tmp_path), "--reload")


def test_an_unwritable_setting_is_a_clear_error_not_a_traceback(demo_company, tmp_path, settings):
    settings.ARI_USER = "bad user]"
    with pytest.raises(CommandError, match="ARI_USER"):
        render("--output", str(tmp_path))
    assert not any(tmp_path.iterdir())


def test_an_operator_reads_the_stale_files_in_korean_by_default(demo_company, tmp_path):
    with translation.override("ko"), pytest.raises(CommandError, match="오래된 파일: pjsip.conf"):
        render("--output", str(tmp_path), "--check")


def test_a_malformed_encryption_key_is_a_one_line_error(demo_company, tmp_path, settings):
    settings.ENCRYPTION_KEYS = ["garbage"]
    with pytest.raises(CommandError, match="ENCRYPTION_KEY must be a comma-separated list of Fernet keys"):
        render("--output", str(tmp_path), "--check")


def test_a_key_that_cannot_open_the_sip_secrets_says_what_to_do(demo_company, tmp_path, settings):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the key the secrets were written under is gone
    with pytest.raises(CommandError, match=r"Cannot decrypt accounts\.User\..*run `manage.py rotate_encryption_key`"):
        render("--output", str(tmp_path), "--check")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("check", [[], ["--check"]], ids=["write", "check"])
def test_an_output_that_is_a_file_is_a_clear_error_and_the_file_is_kept(demo_company, tmp_path, check):
    output = tmp_path / "asterisk"
    output.write_text("not a directory")
    with pytest.raises(CommandError, match=r"asterisk is a file: give --output \(or ASTERISK_CONFIG_DIR\) a directory"):
        render("--output", str(output), *check)
    assert output.read_text() == "not a directory"


def test_an_output_below_a_file_is_a_clear_error(demo_company, tmp_path):
    (tmp_path / "asterisk").write_text("not a directory")
    with pytest.raises(CommandError, match=r"Cannot read or write .*asterisk/etc: Not a directory\."):
        render("--output", str(tmp_path / "asterisk" / "etc"))
