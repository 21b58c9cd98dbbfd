"""The OpenAPI document and the interactive docs page, which must work under the project's strict CSP."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_document_describes_every_route_with_bearer_auth(db):
    document = Client().get("/api/v1/openapi.json").json()

    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/auth/activity",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/users/{user_id}/activity",
        "/api/v1/companies",
        "/api/v1/companies/{company_id}",
        "/api/v1/calls",
        "/api/v1/calls/{call_id}",
        "/api/v1/calls/{call_id}/note",
        "/api/v1/calls/{call_id}/abuse-report",
        "/api/v1/pause-reasons",
        "/api/v1/business-hours",
        "/api/v1/business-hours/{hours_id}",
        "/api/v1/queues",
        "/api/v1/queues/{queue_id}",
        "/api/v1/blocked-numbers",
        "/api/v1/blocked-numbers/{blocked_id}",
        "/api/v1/abuse-reports",
        "/api/v1/abuse-reports/{report_id}/block",
        "/api/v1/abuse-reports/{report_id}/dismiss",
        "/api/v1/reports",
    }
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert "security" not in document["paths"]["/api/v1/auth/login"]["post"]
    assert "ErrorOut" in document["components"]["schemas"]
    assert {"CLOSED", "BLOCKED"} <= set(document["components"]["schemas"]["Disposition"]["enum"])
    assert document["paths"]["/api/v1/calls/{call_id}/abuse-report"]["post"]["tags"] == ["abuse reports"]


def test_docs_page_loads_swagger_from_our_own_static_files_under_the_strict_csp(db):
    response = Client().get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.browser
def test_swagger_ui_renders_in_chromium_without_csp_violations(live_server):
    from playwright.sync_api import sync_playwright

    violations = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda message: violations.append(message.text) if "Content Security" in message.text else None,
            )
            page.goto(f"{live_server.url}/api/v1/docs")
            page.wait_for_selector("text=PBX call center API", timeout=15_000)
            page.wait_for_selector('[data-path="/api/v1/calls/{call_id}"]', timeout=15_000)
        finally:
            browser.close()

    assert violations == []
