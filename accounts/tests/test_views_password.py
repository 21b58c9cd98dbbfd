"""A signed-in user changes their own password: the current one first, as rate limited as signing in, and the new one
signs them out everywhere else but here."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from api.services import token_find, token_issue
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase-7"
URL = "/accounts/password/"


def change(client, current=PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post(URL, {"current": current, "password1": new, "password2": new if again is None else again})


def test_an_agent_changes_their_password_and_stays_signed_in_only_here(client, agent_a):
    client.force_login(agent_a)
    other_device = Client()
    other_device.force_login(agent_a)
    token = token_issue(user=agent_a).token

    response = change(client)

    assert response.status_code == 302
    assert User.objects.get(pk=agent_a.pk).check_password(NEW_PASSWORD)
    assert client.get(reverse("console:agent")).status_code == 200  # this session goes on
    assert other_device.get(reverse("console:agent")).status_code == 302  # the other one is signed out
    assert token_find(token=token) is None  # and the API tokens revoked


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"current": "not-my-password"}, "current"),
        ({"new": "1234567890"}, "password1"),  # too weak
        ({"again": "something-else-entirely-9"}, "password2"),
    ],
)
def test_a_change_that_cannot_be_made_says_why_and_changes_nothing(client, manager_a, fields, field):
    client.force_login(manager_a)

    response = change(client, **fields)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert User.objects.get(pk=manager_a.pk).check_password(PASSWORD)


def test_wrong_current_passwords_count_as_failed_sign_ins(client, agent_a):
    client.force_login(agent_a)
    for _attempt in range(5):  # LOGIN_RATE, 5 a minute
        assert change(client, current="guess").status_code == 400

    limited = change(client)  # even the right one, until the minute is over

    assert limited.status_code == 429 and "data-rate-limited" in limited.content.decode()
    assert User.objects.get(pk=agent_a.pk).check_password(PASSWORD)
    sign_in = Client().post(reverse("accounts:login"), {"username": "agent_a", "password": PASSWORD})
    assert sign_in.status_code == 429  # one budget of guesses for the username, whichever form they come through


def test_the_page_needs_a_signed_in_user_and_every_page_links_to_it(client, agent_a):
    assert client.get(URL).status_code == 302

    client.force_login(agent_a)

    assert client.get(URL).status_code == 200
    assert f'href="{URL}"' in client.get(reverse("console:agent")).content.decode()
