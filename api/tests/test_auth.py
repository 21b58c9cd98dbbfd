"""Sign-in, tokens (expiry, revocation, deactivation), the login rate limit and the activity route."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import ActivityChange, AuthEvent, User
from accounts.states import ActivityState, ChangeSource
from api.models import ApiToken
from api.services import token_issue
from api.tests.conftest import JsonClient, error_code
from companies.models import PauseReason
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(username, password, client=None):
    return (client or JsonClient()).post("auth/login", {"username": username, "password": password})


def test_login_returns_a_bearer_token_valid_for_ten_hours(agent_a):
    response = login("agent_a", PASSWORD)

    assert response.status_code == 200
    body = response.json()
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 10 * 3600
    assert claims["sub"] == str(agent_a.pk)
    assert jwt.get_unverified_header(body["token"])["alg"] == "HS256"
    assert body["token_type"] == "Bearer"
    assert body["expires_at"].endswith("+09:00")
    assert body["user"]["username"] == "agent_a" and body["user"]["role"] == "AGENT"
    assert ApiToken.objects.get(jti=claims["jti"]).user == agent_a
    assert AuthEvent.objects.filter(kind="LOGIN", user=agent_a).count() == 1


def test_token_from_login_opens_the_api(agent_a):
    token = login("agent_a", PASSWORD).json()["token"]

    response = JsonClient(token).get("auth/me")

    assert response.status_code == 200
    assert response.json()["id"] == agent_a.pk


def test_unknown_user_and_wrong_password_get_the_same_answer(agent_a):
    unknown = login("nobody_here", PASSWORD)
    wrong = login("agent_a", "not-the-password-1")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert error_code(wrong) == "invalid_credentials"
    assert set(AuthEvent.objects.filter(kind="FAILED").values_list("username", flat=True)) == {"nobody_here", "agent_a"}


def test_deactivated_user_with_the_right_password_gets_the_same_refusal(agent_a):
    wrong = login("agent_a", "not-the-password-1")
    User.objects.filter(pk=agent_a.pk).update(is_active=False)

    response = login("agent_a", PASSWORD)

    assert response.status_code == 401
    assert response.json() == wrong.json()


def test_sixth_login_in_a_minute_for_one_username_is_refused_even_with_the_right_password(agent_a):
    for _ in range(5):
        assert login("agent_a", "not-the-password-1").status_code == 401

    response = login("agent_a", PASSWORD)

    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    assert response["Retry-After"] == "60"
    assert AuthEvent.objects.filter(kind="RATE_LIMITED", username="agent_a").exists()


def test_a_whole_shift_signing_in_from_one_address_is_not_limited(make_user, company_a):
    client = JsonClient()
    for n in range(8):
        agent = make_user(company=company_a, username=f"shift{n}")
        assert login(agent.username, PASSWORD, client).status_code == 200


def test_sixth_login_in_a_minute_from_one_address_is_refused_whatever_the_username(agent_a):
    client = JsonClient()
    for n in range(5):
        assert login(f"someone{n}", "whatever-it-is-1", client).status_code == 401

    assert login("agent_a", PASSWORD, client).status_code == 429


def web_form_login(username, password, client=None):
    return (client or Client()).post(reverse("accounts:login"), {"username": username, "password": password})


def test_failed_api_sign_ins_count_against_the_web_form_too(agent_a):
    for _ in range(5):
        assert login("agent_a", "not-the-password-1").status_code == 401

    response = web_form_login("agent_a", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in response.client.session


def test_failed_web_form_sign_ins_count_against_the_api_too(agent_a):
    for _ in range(5):
        assert web_form_login("agent_a", "not-the-password-1").status_code == 400

    response = login("agent_a", PASSWORD)

    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    assert response["Retry-After"] == "60"


def test_the_two_ways_in_share_one_count_per_address(agent_a):
    for n in range(3):
        assert login(f"someone{n}", "whatever-it-is-1").status_code == 401
    for n in range(2):
        assert web_form_login(f"someone-else{n}", "whatever-it-is-1").status_code == 400

    assert login("agent_a", PASSWORD).status_code == 429


def test_logout_revokes_the_token_at_once_and_only_that_token(agent_a, api_as):
    session_one, session_two = api_as(agent_a), api_as(agent_a)

    assert session_one.post("auth/logout").status_code == 204

    assert session_one.get("auth/me").status_code == 401
    assert session_two.get("auth/me").status_code == 200
    assert AuthEvent.objects.filter(kind="LOGOUT", user=agent_a).exists()


def test_token_past_its_expiry_is_refused(agent_a):
    expired = token_issue(user=agent_a, lifetime=timedelta(seconds=-1)).token

    response = JsonClient(expired).get("auth/me")

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_token_whose_stored_expiry_has_passed_is_refused(agent_a):
    issued = token_issue(user=agent_a)
    client = JsonClient(issued.token)
    assert client.get("auth/me").status_code == 200

    ApiToken.objects.filter(pk=issued.record.pk).update(expires_at=issued.record.issued_at)

    assert client.get("auth/me").status_code == 401


def test_deactivated_users_token_stops_working_at_once(agent_a, api_as):
    client = api_as(agent_a)
    assert client.get("auth/me").status_code == 200

    User.objects.filter(pk=agent_a.pk).update(is_active=False)

    assert client.get("auth/me").status_code == 401


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda claims: jwt.encode(claims, "another-key-" * 4, algorithm="HS256"), id="key"),
        pytest.param(lambda claims: jwt.encode(claims, None, algorithm="none"), id="alg-none"),
        pytest.param(lambda claims: "not.a.jwt", id="garbage"),
        pytest.param(
            lambda claims: jwt.encode({**claims, "sub": "999999"}, settings.JWT_SECRET_KEY, algorithm="HS256"),
            id="other-user",
        ),
    ],
)
def test_forged_tokens_are_refused(agent_a, forge):
    record = token_issue(user=agent_a).record
    claims = {
        "sub": str(agent_a.pk),
        "jti": record.jti,
        "iat": int(record.issued_at.timestamp()),
        "exp": int(record.expires_at.timestamp()),
        "iss": "pbx",
        "aud": "pbx-api",
    }

    response = JsonClient(forge(claims)).get("auth/me")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_request_without_a_token_gets_401_in_the_error_shape(db):
    response = JsonClient().get("users")

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": response.json()["error"]["message"], "fields": {}}
    }


def test_login_needs_no_csrf_token(agent_a):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/v1/auth/login", {"username": "agent_a", "password": PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 200


def test_login_with_a_body_that_is_not_json_is_a_400(db):
    response = JsonClient().post("auth/login", raw="{username: agent_a")

    assert response.status_code == 400
    assert error_code(response) == "malformed_request"


def test_login_with_wrong_types_names_the_fields(db):
    response = JsonClient().post("auth/login", {"username": ["agent_a"], "password": 12})

    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"username", "password"}


def test_error_messages_follow_accept_language(db):
    english = JsonClient().request("GET", "users", headers={"Accept-Language": "en"})
    korean = JsonClient().request("GET", "users", headers={"Accept-Language": "ko"})

    assert english.json()["error"]["message"] != korean.json()["error"]["message"]
    assert error_code(english) == error_code(korean) == "not_authenticated"


# --- PATCH /auth/activity ---------------------------------------------------------------------------------------


def test_agent_goes_away_for_lunch_by_reason_code(agent_a, api_as):
    response = api_as(agent_a).patch("auth/activity", {"state": "AWAY", "pause_reason": "LUNCH"})

    assert response.status_code == 200
    activity = response.json()["activity"]
    assert activity["state"] == "AWAY" and activity["pause_reason"]["code"] == "LUNCH"
    change = ActivityChange.objects.get(agent=agent_a)
    assert (change.from_state, change.to_state, change.source) == ("READY", "AWAY", ChangeSource.SELF)


def test_agent_goes_away_by_reason_id_and_back_to_ready(agent_a, api_as):
    client = api_as(agent_a)
    meeting = PauseReason.objects.get(company=agent_a.company, code="MEETING")

    assert client.patch("auth/activity", {"state": "AWAY", "pause_reason": meeting.pk}).status_code == 200
    response = client.patch("auth/activity", {"state": "READY"})

    assert response.status_code == 200
    assert response.json()["activity"] == {**response.json()["activity"], "state": "READY", "pause_reason": None}


def test_away_without_a_reason_is_refused_with_the_consoles_message(agent_a, api_as):
    response = api_as(agent_a).patch("auth/activity", {"state": "AWAY"}, headers={"Accept-Language": "en"})

    assert response.status_code == 409
    assert error_code(response) == "activity_change_refused"
    assert response.json()["error"]["message"] == "Choose a reason for being away."
    assert User.objects.get(pk=agent_a.pk).activity_state == ActivityState.READY


def test_pause_reason_of_another_company_is_refused(agent_a, company_b, api_as):
    theirs = PauseReason.objects.get(company=company_b, code="LUNCH")

    response = api_as(agent_a).patch("auth/activity", {"state": "AWAY", "pause_reason": theirs.pk})

    assert response.status_code == 422
    assert "pause_reason" in response.json()["error"]["fields"]


def test_a_pause_reason_no_longer_in_use_is_a_422_on_the_field(agent_a, api_as):
    PauseReason.objects.filter(company=agent_a.company, code="LUNCH").update(is_active=False)

    response = api_as(agent_a).patch(
        "auth/activity", {"state": "AWAY", "pause_reason": "LUNCH"}, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"pause_reason": ["This pause reason is no longer in use."]}
    assert User.objects.get(pk=agent_a.pk).activity_state == ActivityState.READY


@pytest.mark.parametrize("role_fixture", ["admin_user", "manager_a"])
def test_someone_who_is_not_an_agent_is_told_so_even_with_a_pause_reason(role_fixture, request, api_as):
    response = api_as(request.getfixturevalue(role_fixture)).patch(
        "auth/activity", {"state": "AWAY", "pause_reason": "LUNCH"}, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["message"] == "Only agents have an activity state."


def test_automatic_pause_reason_cannot_be_chosen_by_hand(agent_a, api_as):
    response = api_as(agent_a).patch("auth/activity", {"state": "AWAY", "pause_reason": "MISSED_OFFER"})

    assert response.status_code == 409


def test_agent_cannot_put_themself_on_a_call(agent_a, api_as):
    response = api_as(agent_a).patch("auth/activity", {"state": "ON_CALL"})

    assert response.status_code == 409
    assert User.objects.get(pk=agent_a.pk).activity_state == ActivityState.READY


@pytest.mark.parametrize("role_fixture", ["manager_a", "admin_user"])
def test_managers_and_admins_have_no_activity_state_to_change(role_fixture, request, api_as):
    response = api_as(request.getfixturevalue(role_fixture)).patch("auth/activity", {"state": "TRAINING"})

    assert response.status_code == 409


def test_unknown_state_is_a_422(agent_a, api_as):
    response = api_as(agent_a).patch("auth/activity", {"state": "SLEEPING"})

    assert response.status_code == 422
    assert "state" in response.json()["error"]["fields"]


@pytest.mark.parametrize("role_fixture", ["admin_user", "manager_a", "agent_a", "manager_b", "agent_b"])
def test_every_role_signs_in_sees_itself_and_signs_out(request, role_fixture):
    user = request.getfixturevalue(role_fixture)
    signed_in = login(user.username, PASSWORD)
    client = JsonClient(signed_in.json()["token"])

    me = client.get("auth/me").json()
    logout = client.post("auth/logout")

    assert signed_in.json()["user"]["last_login"] is not None
    assert (me["id"], me["role"], me["company_id"]) == (user.pk, user.role, user.company_id)
    assert logout.status_code == 204
    assert client.get("auth/me").status_code == 401


def test_api_sign_in_takes_the_username_in_any_capitals(agent_a):
    response = login("Agent_A", PASSWORD)
    assert response.status_code == 200 and response.json()["user"]["id"] == agent_a.pk
