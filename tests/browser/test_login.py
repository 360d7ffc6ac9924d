from __future__ import annotations

from tests.browser.conftest import csp_violations, login, shot


def test_annotator_logs_in_and_sees_home_page(page, live_server, annotator, project):
    login(page, live_server, annotator)
    assert page.locator("h1").inner_text() == "Your projects"
    assert page.get_by_role("link", name=project.name).is_visible()
    # htmx is loaded from our own static files and configured safely.
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.evaluate("htmx.config.selfRequestsOnly") is True
    assert csp_violations(page) == []
    assert page.watch.errors == [] and page.watch.external == []
    shot(page, "home")


def test_bad_password_shows_error_and_stays_on_login(page, live_server, annotator):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", annotator.username)
    page.fill("#id_password", "wrong password")
    page.keyboard.press("Enter")
    alert = page.wait_for_selector("[role=alert]")
    assert "/accounts/login/" in page.url
    assert "didn't match" in alert.inner_text()
