"""An LTI launch in a browser, inside the LMS's iframe as Canvas and Moodle show a tool: Debian's
chromium (Playwright, test_browser.py's setup) opens the test platform's course page
(tests/service/lti_platform.py), whose iframe goes through the OIDC login, the platform's
authorization form post and the launch into `autograder serve`; the student and the instructor land
on the assignment's page, signed in, at 390 and 1280 px (screenshots beside test_browser.py's). The
same page served from an origin that is not registered gets no frame."""

from __future__ import annotations

import re

import pytest

from tests.service.helpers import NAME, start_serve, stop_serve
from tests.service.lti_platform import Platform
from tests.service.test_browser import SHOTS, WIDTHS, shots
from tests.service.test_commands import _env, _free_port


@pytest.fixture
def lms_and_tool(svc):
    """The platform registered (before the browser starts: Django's ORM and Playwright's loop do not
    mix in one thread) and `autograder serve` on the test's database, no workers."""
    from lti_tool.models import LtiRegistration

    from autograder.service.lti_register import register

    platform = Platform()
    port = _free_port()
    platform.tool_url = f"http://127.0.0.1:{port}"
    platform.launch_claims = {"custom": {"assignment": NAME}}
    register("Test LMS", platform.issuer, platform.client_id, platform.auth_url, platform.token_url,
             platform.jwks_url, [platform.deployment], [platform.url])
    extra = {"AUTOGRADER_SERVICE_HOME": svc["env"]["AUTOGRADER_SERVICE_HOME"]}
    if "DATABASE_URL" in svc["env"]:
        extra["DATABASE_URL"] = svc["env"]["DATABASE_URL"]
    proc, _ = start_serve(["--port", port, "--workers", "0", "--course", svc["course"], "--base-url",
                           platform.tool_url], _env(svc, **extra))
    yield platform
    stop_serve(proc)
    platform.close()
    LtiRegistration.objects.all().delete()


def _tool_frame(page):
    return page.frame_locator("#tool")


@pytest.mark.slow
@pytest.mark.browser
def test_launch_inside_the_lms_iframe(lms_and_tool, chromium):
    platform = lms_and_tool
    SHOTS.mkdir(parents=True, exist_ok=True)
    for who, staff in (("ada", False), ("grace", True)):
        context = chromium.new_context(viewport={"width": WIDTHS[0], "height": 900})
        page = context.new_page()
        page.goto(f"{platform.url}/lms?user={who}")
        frame = _tool_frame(page)
        heading = frame.get_by_role("heading", name=NAME.replace("_", " "))
        heading.wait_for(timeout=30_000)
        assert frame.locator(".who").inner_text() == who          # signed in by the launch, as the LMS's user
        assert frame.get_by_role("link", name="Staff").count() == (1 if staff else 0)   # the LMS's role
        tool = next(f for f in page.frames if f.url.startswith(platform.tool_url))
        assert re.search(rf"/a/{NAME}/$", tool.url)
        shots(page, f"lti-{who}-iframe", tool)
        context.close()

    # the same LMS page from an origin that is not registered (localhost, not 127.0.0.1): no frame for it
    context = chromium.new_context(viewport={"width": WIDTHS[1], "height": 900})
    page = context.new_page()
    page.goto(f"{platform.url.replace('127.0.0.1', 'localhost')}/lms?user=ada")
    blocked = ""
    for _ in range(150):   # the frame's last navigation ends on chromium's error page (frame-ancestors)
        urls = [f.url for f in page.frames[1:]]
        if any(u.startswith("chrome-error://") for u in urls):
            blocked = urls[0]
            break
        page.wait_for_timeout(100)
    assert blocked.startswith("chrome-error://"), [f.url for f in page.frames]
    assert _tool_frame(page).get_by_role("heading", name=NAME.replace("_", " ")).count() == 0
    page.screenshot(path=str(SHOTS / "lti-unregistered-origin-1280.png"), full_page=True)
    context.close()
