"""Development keys: generated once, kept across restarts, readable by their owner only."""

import stat

from cryptography.fernet import Fernet

from pbx.dev_secrets import load_or_create_dev_secrets

NAMES = ("SECRET_KEY", "PASSWORD_PEPPER", "ENCRYPTION_KEY")


def test_keys_are_generated_once_and_kept(tmp_path):
    path = tmp_path / ".dev-secrets.env"
    first = load_or_create_dev_secrets(path, NAMES)
    assert load_or_create_dev_secrets(path, NAMES) == first
    assert len(first["SECRET_KEY"]) >= 50 and first["SECRET_KEY"] != first["PASSWORD_PEPPER"]
    Fernet(first["ENCRYPTION_KEY"])  # a usable Fernet key


def test_the_file_is_private(tmp_path):
    path = tmp_path / ".dev-secrets.env"
    load_or_create_dev_secrets(path, NAMES)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".dev-secrets.env"]  # no temporary file left behind


def test_a_new_name_is_added_without_changing_the_others(tmp_path):
    path = tmp_path / ".dev-secrets.env"
    first = load_or_create_dev_secrets(path, NAMES[:2])
    second = load_or_create_dev_secrets(path, NAMES)
    assert {name: second[name] for name in NAMES[:2]} == first
    assert "ENCRYPTION_KEY" in path.read_text()
