"""Production settings refuse to start without real secrets and pass `check --deploy`; security headers are sent."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

BASE_DIR = Path(__file__).resolve().parents[2]


def production_env(**overrides) -> dict[str, str]:
    """Real-looking secrets for every required setting; an override of None leaves that variable out."""
    values = {
        "DJANGO_ENV": "production",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pbx"),
        "SECRET_KEY": "q8Jr2-wVt1k9LbXn0Ye7Zs4Pd6Hm3Uc5Gf8Aa1Ss2Dd3Ff4Gg5Hh6Jj7Kk8Ll9Zz0Xx",
        "PASSWORD_PEPPER": "pepper-3c9f1e7d2b8a4f60a1e5c7d9b3f2e8a4",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": "blind-7d2e9f1c4b8a3e6d0f5c2b9a7e4d1c8f",
        "JWT_SECRET_KEY": "jwt-1f8e3d6c9b2a5f4e7d0c3b6a9f2e5d8c",
        "ALLOWED_HOSTS": "pbx.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://pbx.example.com",
        "TELEPHONY_ENABLED": "0",
    }
    values.update(overrides)
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DJANGO_SETTINGS_MODULE": "pbx.settings"}
    env.update({name: value for name, value in values.items() if value is not None})
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def django_setup(env) -> subprocess.CompletedProcess:
    return run(["-c", "import django; django.setup(); print('started')"], env)


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "PASSWORD_PEPPER", "ENCRYPTION_KEY", "BLIND_INDEX_KEY", "JWT_SECRET_KEY", "DATABASE_URL"]
)
def test_production_refuses_to_start_without_each_secret(missing):
    result = django_setup(production_env(**{missing: None}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"need these environment variables: {missing}." in result.stderr
    assert "started" not in result.stdout


def test_production_with_no_environment_names_every_missing_secret():
    env = {"PATH": os.environ["PATH"], "DJANGO_ENV": "production", "DJANGO_SETTINGS_MODULE": "pbx.settings"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    for name in ("SECRET_KEY", "PASSWORD_PEPPER", "ENCRYPTION_KEY", "BLIND_INDEX_KEY", "JWT_SECRET_KEY"):
        assert name in result.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": "django-insecure-" + "x" * 50}, "SECRET_KEY must be a random string"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be a random string"),
        ({"PASSWORD_PEPPER": "pepper"}, "PASSWORD_PEPPER must be a random string of at least 32"),
        ({"BLIND_INDEX_KEY": "abc"}, "BLIND_INDEX_KEY must be a random string of at least 32"),
        ({"ENCRYPTION_KEY": "not-a-fernet-key"}, "ENCRYPTION_KEY: key 1 is not a Fernet key"),
        ({"ENCRYPTION_KEY": Fernet.generate_key().decode() + ",oops"}, "ENCRYPTION_KEY: key 2 is not a Fernet key"),
        ({"DJANGO_ENV": "prod"}, "DJANGO_ENV must be 'development' or 'production'"),
    ],
)
def test_production_refuses_placeholder_secrets(override, message):
    result = django_setup(production_env(**override))
    assert result.returncode != 0
    assert message in result.stderr


def test_production_starts_with_real_secrets():
    result = django_setup(production_env())
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_check_deploy_is_clean_under_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "DEBUG"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/accounts/login/", secure=True, HTTP_HOST="pbx.example.com")
print(json.dumps({
    "status": response.status_code,
    "headers": dict(response.headers),
    "csrf_cookie_secure": bool(response.cookies["csrftoken"]["secure"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "debug": settings.DEBUG,
}))
"""


def test_production_sends_hsts_and_secure_cookies():
    result = run(["-c", PROBE], production_env())
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["status"] == 200
    assert probe["headers"]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert probe["csrf_cookie_secure"] and probe["session_cookie_secure"] and probe["session_cookie_httponly"]
    assert probe["debug"] is False
    assert "default-src 'self'" in probe["headers"]["Content-Security-Policy"]


def test_production_redirects_plain_http_to_https():
    probe = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/accounts/login/', HTTP_HOST='pbx.example.com'); print(r.status_code, r['Location'])"
    )
    result = run(["-c", probe], production_env())
    assert result.stdout.split() == ["301", "https://pbx.example.com/accounts/login/"], result.stderr


def test_every_page_sends_the_security_headers(client):
    response = client.get(reverse("accounts:login"))
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get(reverse("accounts:login")).headers
