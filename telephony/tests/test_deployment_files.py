"""The deployment files that cannot be built here are still checked: compose, Dockerfiles, Asterisk's static config.

No Docker engine runs on the test machine, so these tests read the files: the compose file's services, health checks,
volumes and every environment variable the settings read; every file a Dockerfile copies exists; the Asterisk image
loads a module for every dialplan application the rendered configuration uses.
"""

import re
from pathlib import Path

import pytest
import yaml

from telephony import asterisk_config
from telephony.tests.asterisk_dialect import Dialplan, parse

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
# Read by the test suite only (its own database name); a deployment never sets it.
TEST_ONLY_VARIABLES = {"TEST_DATABASE_NAME"}
SECRETS = ("SECRET_KEY", "PASSWORD_PEPPER", "ENCRYPTION_KEY", "BLIND_INDEX_KEY", "JWT_SECRET_KEY", "ARI_PASS")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))


def settings_variables() -> set[str]:
    source = (ROOT / "pbx" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'\benv(?:\.[a-z_]+)?\(\s*"([A-Z][A-Z0-9_]*)"', source))
    required = re.search(r"REQUIRED_SECRETS = \(([^)]*)\)", source)
    names |= set(re.findall(r'"([A-Z][A-Z0-9_]*)"', required.group(1)))
    return names


def test_compose_has_the_database_redis_asterisk_and_the_application(compose):
    services = compose["services"]
    assert {"db", "redis", "asterisk", "app", "setup", "proxy"} <= set(services)
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:")
    assert services["app"]["deploy"]["replicas"] == 2  # two processes behind the proxy: one leader, one standby


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name == "setup":
            assert service["restart"] == "no"
            continue
        assert service["healthcheck"]["test"], name


def test_data_lives_in_declared_volumes(compose):
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith("."):
                used.add(source)
    assert used == declared
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]
    assert "asterisk-generated:/etc/asterisk/generated:ro" in compose["services"]["asterisk"]["volumes"]


def test_the_application_is_given_every_variable_the_settings_read(compose):
    environment = compose["services"]["app"]["environment"]
    missing = settings_variables() - TEST_ONLY_VARIABLES - set(environment)
    assert not missing, f"add to x-app-environment in docker/compose.yaml: {sorted(missing)}"
    assert environment["DJANGO_ENV"] == "production"
    assert environment["REDIS_URL"].startswith("redis://redis:")
    assert environment["ARI_HOST"] == "asterisk"


def test_no_secret_is_committed_every_one_comes_from_the_env_file(compose):
    environment = compose["services"]["app"]["environment"]
    for name in SECRETS:
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", environment[name]), name
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
    example = (DOCKER / "env.example").read_text(encoding="utf-8")
    for name in (*SECRETS, "POSTGRES_PASSWORD"):
        assert re.search(rf"^{name}=$", example, re.MULTILINE), name


def test_the_published_rtp_ports_are_the_ones_asterisk_uses(compose):
    rtp = parse((ROOT / "asterisk" / "etc" / "rtp.conf").read_text(encoding="utf-8"))
    options = rtp.options(rtp.named("general")[0])
    published = f"{options['rtpstart'][0]}-{options['rtpend'][0]}"
    assert f"{published}:{published}/udp" in compose["services"]["asterisk"]["ports"]
    assert not any("8088" in port for port in compose["services"]["asterisk"]["ports"])  # ARI stays private


def _copied_sources(dockerfile: Path) -> list[str]:
    sources = []
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(word.startswith("--from") for word in words):
            sources += [word for word in words[1:-1] if not word.startswith("--")]
    return sources


@pytest.mark.parametrize("dockerfile", ["app.Dockerfile", "asterisk.Dockerfile"])
def test_every_file_a_dockerfile_copies_exists_in_the_repository(dockerfile):
    sources = _copied_sources(DOCKER / dockerfile)
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"{dockerfile} copies {source}, which does not exist"


def test_the_compose_file_builds_from_the_dockerfiles_and_mounts_files_that_exist(compose):
    for service in compose["services"].values():
        if "build" in service:
            assert (DOCKER / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        for mount in service.get("volumes", []):
            if mount.startswith("."):
                assert (DOCKER / mount.split(":")[0]).is_file(), mount


def test_the_asterisk_image_is_asterisk_20_on_ubuntu_24_04_without_ssh_or_root_password():
    text = (DOCKER / "asterisk.Dockerfile").read_text(encoding="utf-8")
    assert "ARG UBUNTU=ubuntu:24.04" in text
    assert re.search(r"ARG ASTERISK_VERSION=20\.\d+\.\d+", text)
    assert "sha256sum -c" in text
    for forbidden in ("openssh", "sshd", "chpasswd", "passwd root"):
        assert forbidden not in text
    assert re.search(r"^USER asterisk$", text, re.MULTILINE)


def test_the_application_image_serves_pbx_asgi_with_daphne_as_a_non_root_user():
    text = (DOCKER / "app.Dockerfile").read_text(encoding="utf-8")
    assert "collectstatic --noinput" in text
    assert re.search(r"^USER app$", text, re.MULTILINE)
    assert 'CMD ["python", "manage.py", "serve"' in text  # telephony.server.TelephonyServer: daphne + ARI task
    assert "rm -f .dev-secrets.env" in text  # no build-time secret left in the image


def test_asterisk_loads_a_module_for_every_application_the_dialplan_uses():
    modules = parse((ROOT / "asterisk" / "etc" / "modules.conf").read_text(encoding="utf-8"))
    loaded = set(modules.options(modules.named("modules")[0])["load"])
    dialplan = Dialplan.from_text((Path(__file__).parent / "golden" / "extensions.conf").read_text(encoding="utf-8"))
    applications = {
        step.app for extensions in dialplan.contexts.values() for steps in extensions.values() for step in steps
    }
    builtin = {"NoOp", "GotoIf", "Goto", "Hangup", "Progress", "Answer", "Congestion", "Busy"}
    needs = {"Stasis": "app_stasis.so", "Dial": "app_dial.so", "Playback": "app_playback.so", "Gosub": "app_stack.so",
             "Log": "app_verbose.so"}  # fmt: skip
    for application in applications - builtin:
        assert needs[application] in loaded, application
    for module in ("res_pjsip_registrar.so", "res_ari.so", "res_http_websocket.so", "chan_pjsip.so"):
        assert module in loaded


def test_asterisks_own_files_include_exactly_the_rendered_ones():
    for name in asterisk_config.FILES:
        lines = (ROOT / "asterisk" / "etc" / name).read_text(encoding="utf-8").splitlines()
        assert [line for line in lines if line.startswith("#")] == [f"#tryinclude generated/{name}"]
    for name in ("asterisk.conf", "logger.conf", "rtp.conf", "musiconhold.conf", "cdr.conf"):
        parse((ROOT / "asterisk" / "etc" / name).read_text(encoding="utf-8"))
