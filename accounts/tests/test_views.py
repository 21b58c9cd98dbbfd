"""Sign in and out: every role, the rate limit (per client IP and per username) and the security record."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import AuthEvent
from conftest import PASSWORD

LOGIN = "/accounts/login/"
LIMIT_MESSAGE = "Too many sign-in attempts. Wait a minute and try again."


def attempt(client, username, password="wrong-password-123", ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize(
    ("user_fixture", "landing"),
    [("admin_user", "/console/wallboard/"), ("manager_a", "/console/wallboard/"), ("agent_a", "/console/agent/")],
)
def test_each_role_signs_in_and_lands_on_its_home(client, request, user_fixture, landing):
    user = request.getfixturevalue(user_fixture)
    response = attempt(client, user.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/")["Location"] == landing
    assert AuthEvent.objects.filter(kind="LOGIN", user=user, ip_address="10.0.0.1").count() == 1


def test_sign_in_follows_a_safe_next_only(client, agent_a):
    response = client.post(LOGIN, {"username": "agent_a", "password": PASSWORD, "next": "/console/agent/"})
    assert response["Location"] == "/console/agent/"
    client.logout()
    response = client.post(LOGIN, {"username": "agent_a", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_wrong_password_is_refused_with_the_same_words_as_an_unknown_user(client, agent_a):
    wrong = attempt(client, "agent_a")
    unknown = attempt(client, "nobody-here", ip="10.0.0.2")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_the_refusal_says_only_the_password_is_case_sensitive(client, agent_a):
    """Usernames match in any capitals; Django's own words said both fields might not."""
    with translation.override("en"):
        errors = attempt(client, "AGENT_A").context["form"].non_field_errors()
    assert errors == ["Please enter a correct username and password. Note that the password is case-sensitive."]


def test_a_deactivated_user_cannot_sign_in(client, agent_a):
    agent_a.is_active = False
    agent_a.save()
    assert attempt(client, "agent_a", PASSWORD).status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_failed_sign_in_is_recorded_without_the_password(client, agent_a):
    attempt(client, "agent_a", password="my-secret-guess-77")
    event = AuthEvent.objects.get(kind="FAILED")
    assert (event.username, event.ip_address, event.user) == ("agent_a", "10.0.0.1", None)
    assert "my-secret-guess-77" not in str(AuthEvent.objects.values_list())


def test_sign_out_is_recorded_and_ends_the_session(client, agent_a):
    client.force_login(agent_a)
    response = client.post(reverse("accounts:logout"), REMOTE_ADDR="10.0.0.9")
    assert response["Location"] == reverse("accounts:login")
    assert AuthEvent.objects.filter(kind="LOGOUT", user=agent_a, ip_address="10.0.0.9").exists()
    assert client.get("/")["Location"].startswith(reverse("accounts:login"))


def test_sign_out_needs_a_post(client, agent_a):
    client.force_login(agent_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get("/").status_code == 302 and client.session.get("_auth_user_id") == str(agent_a.pk)


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_a_signed_in_user_opening_the_login_page_goes_home(client, manager_a):
    client.force_login(manager_a)
    assert client.get(LOGIN)["Location"] == "/"


def test_the_login_page_is_translated(client, db):
    assert "로그인" in client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "Sign in" in client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en").content.decode()


# Rate limit: 5 attempts a minute per client IP and per username.


def test_five_attempts_are_answered_and_the_sixth_is_refused_with_429(client, agent_a):
    for _ in range(5):
        assert attempt(client, "agent_a").status_code == 400
    sixth = attempt(client, "agent_a", PASSWORD)  # even the right password
    assert sixth.status_code == 429
    assert LIMIT_MESSAGE in sixth.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuthEvent.objects.filter(kind="RATE_LIMITED", username="agent_a").count() == 1


def test_the_refusal_does_not_reveal_whether_the_user_exists(client, agent_a):
    def sixth_for(username, ip):
        for _ in range(5):
            attempt(client, username, ip=ip)
        return attempt(client, username, ip=ip)

    known, unknown = sixth_for("agent_a", "10.0.1.1"), sixth_for("ghost-user", "10.0.1.2")
    assert known.status_code == unknown.status_code == 429
    assert known.context["limit_message"] == unknown.context["limit_message"] == LIMIT_MESSAGE
    assert known.content.decode().count(LIMIT_MESSAGE) == unknown.content.decode().count(LIMIT_MESSAGE) == 1


def test_a_whole_shift_signing_in_from_one_office_address_is_not_limited(client, make_user, company_a):
    agents = [make_user(company=company_a, username=f"shift{n}") for n in range(12)]
    for agent in agents:
        client.logout()
        assert attempt(client, agent.username, PASSWORD, ip="10.9.9.9").status_code == 302


def test_another_ip_is_not_affected(client, agent_a, manager_a):
    for n in range(6):
        attempt(client, f"guess{n}", ip="10.0.0.1")
    assert attempt(client, "guess-more", ip="10.0.0.1").status_code == 429
    response = attempt(client, "manager_a", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302


def test_the_username_limit_holds_across_ips(client, agent_a):
    for n in range(5):
        assert attempt(client, "agent_a", ip=f"10.0.2.{n}").status_code == 400
    assert attempt(client, "agent_a", PASSWORD, ip="10.0.2.99").status_code == 429
    assert attempt(client, "AGENT_A", PASSWORD, ip="10.0.2.98").status_code == 429  # case does not dodge it


def test_other_users_from_other_ips_still_sign_in_while_one_username_is_locked(client, agent_a, manager_a):
    for n in range(6):
        attempt(client, "agent_a", ip=f"10.0.3.{n}")
    assert attempt(client, "manager_a", PASSWORD, ip="10.0.3.50").status_code == 302


# Behind a reverse proxy.


def test_behind_a_proxy_each_client_has_its_own_limit(client, settings, agent_a, manager_a):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(6):
        client.post(
            LOGIN,
            {"username": f"guess{n}", "password": "x"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    limited = client.post(
        LOGIN, {"username": "z", "password": "x"}, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert limited.status_code == 429
    other = client.post(
        LOGIN,
        {"username": "manager_a", "password": PASSWORD},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )
    assert other.status_code == 302
    assert AuthEvent.objects.filter(kind="LOGIN", ip_address="198.51.100.4").exists()


def test_a_forged_forwarded_for_does_not_dodge_the_limit(client, settings, agent_a):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(6):
        # The client writes its own X-Forwarded-For; the proxy appends the address it really saw.
        client.post(
            LOGIN,
            {"username": f"guess{n}", "password": "x"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7",
        )
    response = client.post(
        LOGIN,
        {"username": "y", "password": "x"},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7",
    )
    assert response.status_code == 429


def test_without_a_trusted_proxy_forwarded_for_is_ignored(client, agent_a):
    for n in range(6):
        attempt_headers = {"REMOTE_ADDR": "10.0.5.5", "HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"}
        client.post(LOGIN, {"username": f"guess{n}", "password": "x"}, **attempt_headers)
    response = client.post(LOGIN, {"username": "y", "password": "x"}, REMOTE_ADDR="10.0.5.5")
    assert response.status_code == 429


def test_the_admin_sign_in_goes_through_the_rate_limited_form(client, admin_user):
    """QA: /admin/login/ took any number of guesses; it now hands over to the console's sign-in and its limit."""
    for _attempt in range(5):
        attempt(client, admin_user.username)
    response = client.post("/admin/login/?next=/admin/", {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session
    assert attempt(client, admin_user.username, password=PASSWORD).status_code == 429, "the sixth try is refused"
