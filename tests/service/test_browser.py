"""The service in a browser (Playwright's sync API, Debian's chromium): `autograder serve` as one command on the
bundled course, its worker grading with the real confined local backend (one warm Grader: TensorFlow, the
reference and the calibration made on its first job). A student signs in and uploads the 01_tf_basics
solution, another uploads a notebook with a realistic mistake from tests/corpus (the bias left out of
eager_linear); both see their state move to graded without reloading, the right scores (the public checks'
until staff publish the hidden ones) and their feedback; staff see the roster, the pass rates and the
report's plots, publish the hidden results, and the student then sees them. Every page at 390 and 1280 px
wide, its screenshot saved ($AUTOGRADER_SCREENSHOTS, default autograder-out/screenshots/service) for review."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests import nbfactory
from tests.conftest import ROOT
from tests.corpus import tf_basics
from tests.service.helpers import start_serve, stop_serve
from tests.service.test_commands import _env, _free_port

NAME = "01_tf_basics"
MISTAKE = "eager_missing_bias"
WIDTHS = (390, 1280)
SHOTS = Path(os.environ.get("AUTOGRADER_SCREENSHOTS") or ROOT / "autograder-out" / "screenshots" / "service")


@pytest.fixture
def served(svc, tmp_path, cache_dir):
    """`serve` on the bundled course, its one worker on the real local backend (the session's reference cache)."""
    port = _free_port()
    (tmp_path / "roster.csv").write_text("id,name,role\nada,Ada Lovelace,student\nbob,Bob Okafor,student\n"
                                         "prof,Prof Ng,instructor\n")
    env = {**_env(svc, AUTOGRADER_SERVICE_HOME=str(tmp_path / "home"), AUTOGRADER_COURSE=str(ROOT)),
           "AUTOGRADER_CACHE": str(cache_dir)}
    env.pop("AUTOGRADER_SANDBOX")   # the real sandbox, not the fake one of the other service tests
    proc, said = start_serve(["--port", port, "--workers", "1", "--course", ROOT, "--backend", "local",
                              "--import-roster", tmp_path / "roster.csv", "--base-url", f"http://127.0.0.1:{port}"], env)
    links = dict(re.findall(r"^\s+(\S+)\t\S+\t(\S+)$", said, re.M))
    assert set(links) == {"ada", "bob", "prof"}, said
    yield links
    stop_serve(proc)


def shots(page, name: str, ours=None) -> None:
    """The page at each width, saved; our own pages (``ours``: the frame that holds one, by default
    the page itself) never scroll sideways on a phone."""
    ours = ours or page
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        if "/feedback/" not in ours.url:
            assert ours.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls at {width}px"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def _sign_in(browser, link: str, who: str):
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    page.goto(link)
    shots(page, f"{who}-01-signin")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


def _submit(page, who: str, notebook: Path) -> str:
    shots(page, f"{who}-02-home")
    page.get_by_role("link", name=NAME.replace("_", " ")).click()
    page.wait_for_url(re.compile(r"/a/"))
    shots(page, f"{who}-03-assignment")
    page.set_input_files("input[name=notebook]", str(notebook))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/s/[0-9a-f-]{36}/$"))
    assert page.get_by_role("heading", name="Submission").is_visible()
    page.wait_for_selector("#state-name:text('Graded')", timeout=240_000)   # no reload: the page follows
    assert page.get_by_role("heading", name="Submission graded").is_visible()
    shots(page, f"{who}-04-graded")
    return page.url


def _points() -> dict:
    """The assignment's points from its checks: all, the public ones, and the mistake's exercise's."""
    from autograder.assignments.course import find_assignment

    checks = find_assignment(NAME, ROOT).checkset(hidden=True).checks
    exercise = tf_basics.MISTAKES[MISTAKE][0]
    return {"max": sum(c.points for c in checks), "public": sum(c.points for c in checks if not c.hidden),
            "lost": sum(c.points for c in checks if c.exercise == exercise),
            "lost_public": sum(c.points for c in checks if c.exercise == exercise and not c.hidden)}


def _g(x: float) -> str:
    return f"{x:g}"


@pytest.mark.slow
@pytest.mark.browser
def test_students_submit_staff_publish_in_a_browser(served, svc, chromium, tmp_path):
    browser, pts = chromium, _points()
    exercise, _, words = tf_basics.MISTAKES[MISTAKE]
    solution = nbfactory.make(tmp_path / f"{NAME}.ipynb", NAME)
    mistaken = nbfactory.make(tmp_path / "my_attempt.ipynb", NAME, {exercise: tf_basics.MISTAKES[MISTAKE][1]})

    ada = _sign_in(browser, served["ada"], "ada")
    started = time.monotonic()
    ada_url = _submit(ada, "ada", solution)   # the worker's first job: its warm grader is made here
    first_s = time.monotonic() - started
    assert ada.inner_text("#score") == f"{_g(pts['public'])} / {_g(pts['public'])}"   # hidden ones wait
    ada.get_by_role("link", name="Open the feedback").click()
    ada.wait_for_url(re.compile(r"/feedback/$"))
    assert "Everything passes" in ada.content()
    shots(ada, "ada-05-feedback")
    ada.get_by_role("link", name=re.compile("your submissions")).click()   # the way back to the service
    ada.wait_for_url(re.compile(rf"/a/{NAME}/$"))

    bob = _sign_in(browser, served["bob"], "bob")
    started = time.monotonic()
    _submit(bob, "bob", mistaken)   # the warm grader
    second_s = time.monotonic() - started
    public = pts["public"] - pts["lost_public"]
    assert bob.inner_text("#score") == f"{_g(public)} / {_g(pts['public'])}"
    bob.get_by_role("link", name="Open the feedback").click()
    bob.wait_for_url(re.compile(r"/feedback/$"))
    feedback = bob.inner_text("body")
    assert "Everything passes" not in feedback and exercise in feedback and words in feedback   # the mistake named
    shots(bob, "bob-05-feedback")

    prof = _sign_in(browser, served["prof"], "prof")
    prof.get_by_role("link", name="Staff").click()
    prof.wait_for_url(re.compile(r"/staff/$"))
    shots(prof, "prof-02-dashboard")
    prof.get_by_role("link", name=NAME).click()
    prof.wait_for_url(re.compile(r"/staff/a/"))
    roster = prof.inner_text("table#roster")   # counted score, final score (no override), submissions
    full, wrong = _g(pts["max"]), _g(pts["max"] - pts["lost"])
    assert re.search(rf"ada\s+Ada Lovelace\s+{full} / {full}\s+{full}\s+1", roster), roster
    assert re.search(rf"bob\s+Bob Okafor\s+{wrong} / {full}\s+{wrong}\s+1", roster), roster
    rates = prof.inner_text("table#pass-rates")
    assert re.search(rf"{exercise}\s+1 / 2\s+50%", rates) and "2 / 2\t100%" in rates, rates
    for plot in ("#plot-scores", "#plot-exercises"):   # drawn by the server, shown to staff
        assert prof.evaluate(f"document.querySelector('{plot}').naturalWidth") > 100
    shots(prof, "prof-03-assignment")
    prof.get_by_role("button", name="Publish the hidden results").click()
    assert prof.get_by_role("button", name="Withdraw the hidden results").is_visible()
    shots(prof, "prof-04-published")

    ada.goto(ada_url)
    assert ada.inner_text("#score") == f"{full} / {full}"
    ada.get_by_role("link", name="Open the feedback").click()
    ada.wait_for_url(re.compile(r"/feedback/$"))
    shots(ada, "ada-06-feedback-published")
    assert f"Score: {full} / {full}" in ada.inner_text("body")
    print(f"\nreal grading in the browser test: first upload to graded {first_s:.1f} s (warm grader made), "
          f"second {second_s:.1f} s")
