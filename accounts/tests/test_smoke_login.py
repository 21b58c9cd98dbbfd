from django.urls import reverse

from conftest import PASSWORD


def test_agent_signs_in_and_sees_their_state(client, agent_a):
    response = client.post(reverse("accounts:login"), {"username": "agent_a", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.context["user"] == agent_a
