"""Token housekeeping: the admin's revoke action and the prune command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from api.models import ApiToken
from api.services import token_issue, token_revoke
from api.tests.conftest import JsonClient

pytestmark = pytest.mark.django_db


def test_admin_revokes_a_token_from_the_admin_site(client, admin_user, agent_a):
    issued = token_issue(user=agent_a)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:api_apitoken_changelist"), {"action": "revoke", "_selected_action": [issued.record.pk]}
    )

    assert response.status_code == 302
    assert JsonClient(issued.token).get("auth/me").status_code == 401


def test_token_list_in_the_admin_shows_the_holder(client, admin_user, agent_a):
    token_issue(user=agent_a)
    client.force_login(admin_user)

    response = client.get(reverse("admin:api_apitoken_changelist"))

    assert response.status_code == 200
    assert "agent_a" in response.content.decode()


def test_prune_deletes_long_dead_tokens_and_keeps_the_rest(agent_a):
    live = token_issue(user=agent_a).record
    long_expired = token_issue(user=agent_a, lifetime=timedelta(days=-40)).record
    recently_revoked = token_issue(user=agent_a).record
    token_revoke(record=recently_revoked)
    long_revoked = token_issue(user=agent_a).record
    ApiToken.objects.filter(pk=long_revoked.pk).update(revoked_at=timezone.now() - timedelta(days=31))
    out = StringIO()

    call_command("prune_api_tokens", stdout=out)

    remaining = set(ApiToken.objects.values_list("pk", flat=True))
    assert remaining == {live.pk, recently_revoked.pk}
    assert not {long_expired.pk, long_revoked.pk} & remaining
    assert out.getvalue().startswith("2 ")


@pytest.mark.parametrize("days", ["99999999", "-1"])
def test_prune_refuses_a_number_of_days_out_of_range_and_deletes_nothing(agent_a, days):
    expired = token_issue(user=agent_a, lifetime=timedelta(days=-40)).record
    with (
        translation.override("en"),
        pytest.raises(CommandError, match=f"--days must be between 0 and 3650, not {days}"),
    ):
        call_command("prune_api_tokens", "--days", days, stdout=StringIO())
    assert ApiToken.objects.filter(pk=expired.pk).exists()
