"""The service in a browser (Playwright's sync API, Debian's chromium): `autograder serve` as one command, a
student signs in and uploads the solution, another uploads a notebook the (fake) grader finds
wrong, both see their state move to graded without reloading and their feedback; staff publish the
hidden results and the student then sees them. Every page at 390 and 1280 px wide, its screenshot
saved ($AUTOGRADER_SCREENSHOTS, default autograder-out/screenshots/service) for review."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.service.helpers import NAME
from tests.service.test_commands import _env, _free_port

WIDTHS = (390, 1280)
SHOTS = Path(os.environ.get("AUTOGRADER_SCREENSHOTS") or ROOT / "autograder-out" / "screenshots" / "service")


@pytest.fixture
def served(svc, tmp_path):
    port = _free_port()
    (tmp_path / "roster.csv").write_text("id,name,role\nada,Ada Lovelace,student\nwrong-bob,Bob,student\n"
                                         "prof,Prof Ng,instructor\n")
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "serve", "--port", str(port), "--workers", "1",
                             "--course", str(svc["course"]), "--import-roster", str(tmp_path / "roster.csv"),
                             "--base-url", f"http://127.0.0.1:{port}"],
                            cwd=ROOT, env=_env(svc, AUTOGRADER_SERVICE_HOME=str(tmp_path / "home")),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    said = ""
    for line in proc.stdout:
        said += line
        if line.startswith("serving on"):
            break
    links = dict(re.findall(r"^\s+(\S+)\t\S+\t(\S+)$", said, re.M))
    assert set(links) == {"ada", "wrong-bob", "prof"}, said
    yield links
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _shots(page, name: str) -> None:
    """The page at each width, saved; our own pages never scroll sideways on a phone."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        if "/feedback/" not in page.url:
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls at {width}px"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def _sign_in(browser, link: str, who: str):
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    page.goto(link)
    _shots(page, f"{who}-01-signin")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


def _submit(page, svc, who: str, filename: str) -> str:
    _shots(page, f"{who}-02-home")
    page.get_by_role("link", name=NAME.replace("_", " ")).click()
    page.wait_for_url(re.compile(r"/a/"))
    _shots(page, f"{who}-03-assignment")
    notebook = svc["root"] / filename
    notebook.write_text((svc["course"] / "solutions" / NAME / f"{NAME}.ipynb").read_text())
    page.set_input_files("input[name=notebook]", str(notebook))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/s/[0-9a-f-]{36}/$"))
    assert page.get_by_role("heading", name="Submission received").is_visible()
    page.wait_for_selector("#state-name:text('Graded')", timeout=90_000)   # no reload: the page follows
    _shots(page, f"{who}-04-graded")
    return page.url


@pytest.mark.slow
@pytest.mark.browser
def test_students_submit_staff_publish_in_a_browser(served, svc, chromium):
    browser = chromium
    ada = _sign_in(browser, served["ada"], "ada")
    ada_url = _submit(ada, svc, "ada", f"{NAME}.ipynb")
    assert ada.inner_text("#score") == "1 / 1"          # the public check; hidden ones wait
    ada.get_by_role("link", name="Open the feedback").click()
    ada.wait_for_url(re.compile(r"/feedback/$"))
    assert "Everything passes" in ada.content()
    _shots(ada, "ada-05-feedback")

    bob = _sign_in(browser, served["wrong-bob"], "bob")
    _submit(bob, svc, "bob", "my_attempt.ipynb")
    assert bob.inner_text("#score") == "0 / 1"
    bob.get_by_role("link", name="Open the feedback").click()
    bob.wait_for_url(re.compile(r"/feedback/$"))
    assert "No exercise gets full marks" in bob.content()
    _shots(bob, "bob-05-feedback")

    prof = _sign_in(browser, served["prof"], "prof")
    prof.get_by_role("link", name="Staff").click()
    prof.wait_for_url(re.compile(r"/staff/$"))
    _shots(prof, "prof-02-dashboard")
    prof.get_by_role("link", name=NAME).click()
    prof.wait_for_url(re.compile(r"/staff/a/"))
    roster = prof.inner_text("table#roster")   # counted score, final score (no override), submissions
    assert re.search(r"ada\s+Ada Lovelace\s+2 / 2\s+2\s+1", roster)
    assert re.search(r"wrong-bob\s+Bob\s+1 / 2\s+1\s+1", roster)
    assert re.search(r"scale\s+1 / 2\s+50%", prof.inner_text("table#pass-rates"))
    _shots(prof, "prof-03-assignment")
    prof.get_by_role("button", name="Publish the hidden results").click()
    assert prof.get_by_role("button", name="Withdraw the hidden results").is_visible()
    _shots(prof, "prof-04-published")

    ada.goto(ada_url)
    assert ada.inner_text("#score") == "2 / 2"
    ada.get_by_role("link", name="Open the feedback").click()
    ada.wait_for_url(re.compile(r"/feedback/$"))
    _shots(ada, "ada-06-feedback-published")
    assert "2 / 2" in ada.inner_text("body") or "2/2" in ada.inner_text("body").replace(" ", "")
