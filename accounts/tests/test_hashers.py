"""Passwords: peppered Argon2id, and Django's validators refuse weak ones."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import User
from conftest import PASSWORD


def test_a_stored_password_is_peppered_argon2id(agent_a):
    assert agent_a.password.startswith("argon2_peppered$argon2id$v=19$")
    assert PASSWORD not in agent_a.password
    assert identify_hasher(agent_a.password).algorithm == "argon2_peppered"


def test_the_hash_depends_on_the_pepper(agent_a, settings):
    assert User.objects.get(pk=agent_a.pk).check_password(PASSWORD)
    settings.PASSWORD_PEPPER = "a-different-pepper-than-the-one-used-to-hash"
    assert not User.objects.get(pk=agent_a.pk).check_password(PASSWORD)


def test_a_plain_argon2_hash_of_the_same_password_does_not_verify_with_the_pepper():
    """The pepper is really applied: hashing the bare password gives a hash that the peppered check refuses."""
    bare = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    peppered = "argon2_peppered" + bare.removeprefix("argon2")
    assert not check_password(PASSWORD, peppered)
    assert check_password(PASSWORD, make_password(PASSWORD))


def test_production_memory_cost_is_djangos_default(settings):
    del settings.ARGON2_MEMORY_KIB
    assert identify_hasher(make_password("x" * 12)).memory_cost == 102400


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("short1!", "too short"),
        ("password123", "too common"),
        ("4815162342108", "entirely numeric"),
        ("agent_smith_1", "too similar"),
    ],
)
def test_validators_refuse_a_weak_password(password, complaint, db):
    with translation.override("en"), pytest.raises(ValidationError) as error:
        validate_password(password, User(username="agent_smith"))
    assert complaint in " ".join(error.value.messages)


def test_validators_accept_a_long_unusual_passphrase(db):
    validate_password("violet-harbour-lantern-42", User(username="agent_smith"))
