"""Tenancy in querysets: admins see everything, managers their company, agents themselves, visitors nothing."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import ActivityChange, User
from accounts.services import Actor, activity_change


@pytest.fixture
def people(admin_user, manager_a, agent_a, manager_b, agent_b):
    return {"admin": admin_user, "manager_a": manager_a, "agent_a": agent_a, "manager_b": manager_b, "agent_b": agent_b}


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("admin", {"admin", "manager_a", "agent_a", "manager_b", "agent_b"}),
        ("manager_a", {"manager_a", "agent_a"}),
        ("manager_b", {"manager_b", "agent_b"}),
        ("agent_a", {"agent_a"}),
        ("agent_b", {"agent_b"}),
    ],
)
def test_users_visible_to_each_role(people, viewer, sees):
    visible = set(User.objects.visible_to(people[viewer]).values_list("pk", flat=True))
    assert visible == {people[name].pk for name in sees}


def test_visitors_see_no_users(people):
    assert not User.objects.visible_to(AnonymousUser()).exists()


@pytest.fixture
def changes(people):
    for agent in (people["agent_a"], people["agent_b"]):
        activity_change(agent_id=agent.pk, to_state="TRAINING", actor=Actor.person(user=agent, agent=agent))
    return {change.agent.username: change for change in ActivityChange.objects.select_related("agent")}


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("admin", {"agent_a", "agent_b"}),
        ("manager_a", {"agent_a"}),
        ("manager_b", {"agent_b"}),
        ("agent_a", {"agent_a"}),
        ("agent_b", {"agent_b"}),
    ],
)
def test_activity_log_visible_to_each_role(people, changes, viewer, sees):
    visible = set(ActivityChange.objects.visible_to(people[viewer]).values_list("agent__username", flat=True))
    assert visible == sees


def test_visitors_see_no_activity_log(changes):
    assert not ActivityChange.objects.visible_to(AnonymousUser()).exists()


def test_a_manager_and_an_agent_need_a_company(db):
    for role in ("MANAGER", "AGENT"):
        with pytest.raises(ValidationError) as error:
            User(username=f"x{role}", role=role).full_clean(exclude=["password"])
        assert list(error.value.message_dict) == ["company"]


def test_the_database_refuses_an_agent_without_a_company(db):
    with pytest.raises(IntegrityError):
        User.objects.create(username="orphan", role="AGENT")


def test_extensions_are_unique(agent_a, make_user, company_b):
    with pytest.raises(ValidationError) as error:
        make_user(company=company_b, extension="1000")
    assert "extension" in error.value.message_dict


def test_an_empty_extension_is_stored_as_none_so_many_users_may_have_none(make_user, company_a):
    first, second = make_user(company=company_a, extension=""), make_user(company=company_a, extension="")
    assert first.extension is None and second.extension is None


def test_an_extension_given_later_comes_with_a_sip_secret_for_the_phone(make_user, company_a):
    from accounts.services_users import user_update

    agent = make_user(company=company_a, username="no-phone-yet")
    assert agent.sip_secret == ""
    user_update(user=agent, extension="1077")
    agent.refresh_from_db()
    assert agent.extension == "1077" and len(agent.sip_secret) >= 20


def test_saving_only_the_extension_also_stores_its_sip_secret(make_user, company_a):
    agent = make_user(company=company_a, username="partial-save")
    agent.extension = "1078"
    agent.save(update_fields=["extension"])
    agent.refresh_from_db()
    assert agent.sip_secret


def test_korean_names_read_family_name_first_and_others_given_name_first():
    from accounts.models import User

    assert str(User(username="lee", first_name="서연", last_name="이")) == "이서연"
    assert str(User(username="kim", first_name="민지 ", last_name="")) == "민지"
    assert str(User(username="jane", first_name="Jane", last_name="Doe")) == "Jane Doe"
    assert str(User(username="nobody")) == "nobody"
