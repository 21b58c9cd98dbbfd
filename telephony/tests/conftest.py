"""Fixtures of the telephony tests: a fake Asterisk on loopback, the project's default settings, a demo company."""

import pytest

from accounts.models import Role
from accounts.services import user_create
from calls.models import Queue
from companies.services import company_create
from telephony.fake_ari import FakeAsterisk


@pytest.fixture
async def fake():
    """The fake Asterisk, started on a free loopback port (ARI user pbx, password secret; see support.config_for)."""
    asterisk = FakeAsterisk(user="pbx", password="secret")
    await asterisk.start(host="127.0.0.1", port=0)
    yield asterisk
    await asterisk.stop()


@pytest.fixture
def asterisk_settings(settings):
    """The project's defaults, spelled out so the golden files do not depend on this machine's environment."""
    settings.ARI_HOST, settings.ARI_PORT = "127.0.0.1", 8088
    settings.ARI_USER, settings.ARI_PASS, settings.ARI_APP = "pbx", "pbx-dev-secret", "pbx_ari"
    settings.AGENT_ENDPOINT_TEMPLATE = "PJSIP/{extension}"
    settings.DIRECT_RING_TIMEOUT = 20
    settings.ASTERISK_HTTP_BIND = "127.0.0.1"
    settings.ASTERISK_SIP_BIND = "0.0.0.0:5060"
    settings.ASTERISK_EXTERNAL_ADDRESS = ""
    settings.ASTERISK_MEDIA_ADDRESS = ""
    settings.ASTERISK_LOCAL_NETS = []
    settings.ASTERISK_CODECS = ["ulaw", "alaw"]
    settings.ASTERISK_LANGUAGE = "en"
    settings.ASTERISK_UNAVAILABLE_PROMPT = "all-circuits-busy-now&pls-try-call-later"
    return settings


def _person(company, *, username, extension, name, role=Role.AGENT, active=True):
    user = user_create(
        username=username,
        password="demo-password-123",
        role=role,
        company=company,
        extension=extension,
        first_name=name,
        validate=False,
    )
    # Deterministic, and plainly a sample: the golden files are also the committed sample configuration.
    user.sip_secret = f"sample-secret-{extension}" if extension else ""
    user.is_active = active
    user.save(update_fields=["sip_secret", "is_active"])
    return user


@pytest.fixture
def demo_company(db, asterisk_settings):
    company = company_create(name="Demo Contact", extension_start="1000", extension_end="1099")
    _person(company, username="minji", extension="1001", name="김민지")
    _person(company, username="junho", extension="1002", name='Lee "Ace"; Jun-ho')
    _person(company, username="lead", extension="1090", name="Park Manager", role=Role.MANAGER)
    _person(company, username="gone", extension="1003", name="Former Agent", active=False)
    _person(company, username="deskonly", extension=None, name="No Phone")
    Queue.objects.create(company=company, name="고객지원", number="5000")
    Queue.objects.create(company=company, name="Sales", number="5001")
    Queue.objects.create(company=company, name="Closed line", number="5002", is_active=False)
    closed = company_create(name="Closed Company", extension_start="2000", extension_end="2099", is_active=False)
    _person(closed, username="closed1", extension="2001", name="Closed Agent")
    Queue.objects.create(company=closed, name="Closed queue", number="6000")
    return company
