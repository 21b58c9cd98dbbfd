"""The landing page sends each role to its own home, for either company; visitors go to sign in."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("admin_user", "console:wallboard"),
        ("manager_a", "console:wallboard"),
        ("manager_b", "console:wallboard"),
        ("agent_a", "console:agent"),
        ("agent_b", "console:agent"),
    ],
)
def test_home_sends_each_role_to_its_console(client, request, role, landing):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(landing)


def test_home_sends_visitors_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response["Location"] == f"{reverse('accounts:login')}?next=/"


def test_language_switch_keeps_the_visitor_on_site(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.cookies["django_language"].value == "en"
