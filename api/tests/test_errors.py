"""Bad input of every kind gets the one JSON error shape with a 4xx, never a 500 (cases the fuzzer once found)."""

import logging

import pytest
from django.test import Client, RequestFactory

from api.errors import ApiError, fields_from_ninja
from api.services import login_with_password
from api.tests.conftest import JsonClient, error_code

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]


@pytest.mark.parametrize("body", ["[null, null]", "42", '"text"', "null", "true"])
def test_body_that_is_not_an_object_is_a_422(admin_user, company_a, api_as, body):
    response = api_as(admin_user).patch(f"companies/{company_a.pk}", raw=body)

    assert_error_shape(response, 422)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_active": 0}, "is_active"),
        ({"is_active": "true"}, "is_active"),
        ({"wrapup_seconds": "30"}, "wrapup_seconds"),
        ({"wrapup_seconds": 10**40}, "wrapup_seconds"),
        ({"name": None}, "name"),
    ],
)
def test_json_types_are_not_coerced(admin_user, company_a, api_as, body, field):
    response = api_as(admin_user).patch(f"companies/{company_a.pk}", body)

    assert_error_shape(response, 422)
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "query",
    [{"date_to": "0"}, {"date_from": "1700000000"}, {"limit": "1e2"}, {"limit": "+5"}, {"agent_id": "0x10"}],
)
def test_query_values_must_be_written_as_documented(admin_user, api_as, query):
    assert_error_shape(api_as(admin_user).get("calls", **query), 422)


@pytest.mark.parametrize("value", ["1", "yes", "on"])
def test_boolean_query_values_are_true_or_false(admin_user, api_as, value):
    assert_error_shape(api_as(admin_user).get("users", is_active=value), 422)


def test_unknown_route_and_wrong_method_answer_in_the_error_shape(admin_user, api_as):
    client = api_as(admin_user)

    unknown = client.get("no/such/route")
    wrong_method = client.request("PUT", "users")

    assert_error_shape(unknown, 404)
    assert_error_shape(wrong_method, 405)
    assert error_code(wrong_method) == "method_not_allowed"
    assert set(wrong_method["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_huge_and_deep_bodies_are_refused_cleanly(admin_user, api_as):
    client = api_as(admin_user)

    deep = client.post("users", raw="[" * 100_000 + "]" * 100_000)
    huge = client.post("users", raw='{"username": "' + "x" * 3_000_000 + '"}')

    assert deep.status_code in (400, 422)
    assert_error_shape(huge, 413)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(("method", "route"), [("POST", "auth/login"), ("PATCH", "users/{id}")])
def test_body_over_the_upload_limit_is_a_413_in_the_error_shape(admin_user, api_as, settings, debug, method, route):
    settings.DEBUG = debug
    client = api_as(admin_user)
    client.client.raise_request_exception = False  # a 500 must show as one, not as the test's own exception
    body = '{"name": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'

    response = client.request(method, route.format(id=admin_user.pk), raw=body, headers={"Accept-Language": "en"})

    assert_error_shape(response, 413)
    assert error_code(response) == "payload_too_large"
    assert response.json()["error"]["message"] == "The request body is too large: at most 2,621,440 bytes."


@pytest.mark.parametrize("value", [0, True, 1.5])
def test_a_wrong_value_for_a_union_field_is_named_by_the_field_alone(agent_a, api_as, value):
    response = api_as(agent_a).patch("auth/activity", {"state": "AWAY", "pause_reason": value})

    assert_error_shape(response, 422)
    assert list(response.json()["error"]["fields"]) == ["pause_reason"]


def test_field_keys_leave_out_the_names_pydantic_gives_union_members():
    errors = [
        {"loc": ("body", "payload", "pause_reason", "constrained-int"), "msg": "Input should be a valid integer"},
        {"loc": ("body", "payload", "pause_reason", "constrained-str"), "msg": "Input should be a valid string"},
        {"loc": ("body", "payload", "owner", "AgentRef", "name"), "msg": "Field required"},
        {"loc": ("body", "payload", "owner", "QueueRef", "name"), "msg": "Field required"},
        {"loc": ("body", "payload", "tags", 2, "int"), "msg": "Input should be a valid integer"},
        {"loc": ("body", "payload", "role", "str-enum[Role]"), "msg": "Input should be 'AGENT'"},
        {"loc": ("query", "date_from"), "msg": "must be a date written YYYY-MM-DD"},
    ]

    assert fields_from_ninja(errors) == {
        "pause_reason": ["Input should be a valid integer", "Input should be a valid string"],
        "owner.name": ["Field required"],
        "tags.2": ["Input should be a valid integer"],
        "role": ["Input should be 'AGENT'"],
        "date_from": ["must be a date written YYYY-MM-DD"],
    }


@pytest.mark.parametrize("debug", [False, True])
def test_the_api_root_answers_the_json_404(db, settings, debug):
    settings.DEBUG = debug

    response = Client().get("/api/v1/")

    assert_error_shape(response, 404)
    assert error_code(response) == "not_found"


def test_a_post_to_an_unknown_route_is_the_json_404_not_a_csrf_failure(db):
    client = Client(enforce_csrf_checks=True)

    for route in ("/api/v1/", "/api/v1/no/such/route"):
        assert_error_shape(client.post(route, "{}", content_type="application/json"), 404)


@pytest.mark.parametrize("header", ["Token eyJhbGciOiJIUzI1NiJ9.secret-part", "Basic dXNlcjpzM2NyZXQtcGFzcw=="])
def test_another_authorization_scheme_is_a_401_and_never_logged(db, settings, caplog, header):
    settings.DEBUG = True
    caplog.set_level(logging.DEBUG)

    response = Client().get("/api/v1/auth/me", headers={"Authorization": header})

    assert_error_shape(response, 401)
    credential = header.split(" ", 1)[1]
    assert credential not in caplog.text


def test_login_without_a_client_address_is_still_answered(agent_a):
    request = RequestFactory().post("/api/v1/auth/login")
    del request.META["REMOTE_ADDR"]

    with pytest.raises(ApiError) as refused:
        login_with_password(request=request, username="agent_a", password="wrong-password-1")

    assert refused.value.status == 401


def test_login_form_field_errors_for_missing_fields(db):
    response = JsonClient().post("auth/login", {"username": "someone"})

    assert_error_shape(response, 422)
    assert "password" in response.json()["error"]["fields"]


def test_field_messages_come_in_the_requests_language(api_as, manager_a):
    client = api_as(manager_a)
    body = {"username": "x" * 151, "password": "Sup3r-long-pass!", "role": "AGENT"}
    korean = client.post("users", body).json()["error"]["fields"]["username"]
    english = client.post("users", body, headers={"Accept-Language": "en"}).json()["error"]["fields"]["username"]
    assert korean == ["150자 이하여야 합니다."] and english == ["At most 150 characters."]
    dated = client.get("calls", date_from="yesterday").json()["error"]["fields"]["date_from"]
    assert dated == ["YYYY-MM-DD 형식의 날짜여야 합니다"]
