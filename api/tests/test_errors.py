"""Bad input of every kind gets the one JSON error shape with a 4xx, never a 500 (cases the fuzzer once found)."""

import pytest
from django.test import RequestFactory

from api.errors import ApiError
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
    assert huge.status_code in (400, 422)


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
