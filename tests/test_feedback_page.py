"""The student's feedback page: what to fix first on top, code in messages as code, escaped
student text, one aligned table of points, readable on a phone (390 px) and a laptop (1280 px).

Pages come from hand-built results (no sandbox, no TensorFlow). The layout tests open them in
headless Chromium, driven over the DevTools protocol on a pipe: no extra Python package, and it
can emulate a phone's width (``--window-size`` stops at 500 px in headless Chromium).
``bash tests/ensure-chromium.sh`` installs Chromium.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from markupsafe import Markup

from autograder.outputs.feedback import feedback_html
from autograder.outputs.pages import code_spans

HOSTILE = "<script>alert(1)</script>"
LONG_NAME = "very_long_identifier_" * 14 + "x" * 6  # 300 characters, no break opportunity
LONG_ARRAY = "[" + ",".join(f"{i / 7:.6f}" for i in range(80)) + "]"  # no spaces either
assert len(LONG_NAME) == 300


def check(exercise: str, name: str, points: float, max_points: float = 1, hidden: bool = False,
          message: str = "") -> dict:
    return {"exercise": exercise, "name": name, "id": f"{exercise}.{name}", "points": points,
            "max_points": max_points, "passed": points == max_points, "hidden": hidden,
            "message": message or ("ok" if points == max_points else "wrong")}


def result(checks: list[dict], **extra) -> dict:
    return {"student": "s001", "assignment": "01_tf_basics", "status": "graded", "message": "",
            "score": sum(c["points"] for c in checks), "max_score": sum(c["max_points"] for c in checks),
            "override": None, "graded_at": "2026-11-02T10:00:00+00:00", "grader_version": "0.1.0",
            "checks": checks, **extra}


# Assignment order: make_constant, describe_tensor, reshape_pair, normalise, count_values.
PARTLY = result([
    check("make_constant", "values", 1),
    check("make_constant", "dtype", 1),
    check("describe_tensor", "shape", 0, 2,
          message=f"`describe_tensor`: expected shape (2, 3), got `{LONG_NAME}` and {LONG_ARRAY}"),
    check("describe_tensor", "hidden 1", 0, 2, hidden=True,
          message="`describe_tensor` returns a wrong value on other inputs"),
    check("reshape_pair", "shape", 2, 2),
    check("normalise", "mean", 1),
    check("normalise", "edge cases", 0, 2, hidden=True, message="`normalise` raised `ZeroDivisionError`"),
    check("count_values", "counts", 3, 3),
])
ALL_PASS = result([check("make_constant", "values", 1), check("reshape_pair", "shape", 2, 2)])
HOSTILE_PAGE = result([
    check("make_constant", "values", 0,
          message=f"`make_constant` returned `{HOSTILE}`; printed {HOSTILE} and `unpaired"),
    check("reshape_pair", "shape", 1),
])


def test_code_spans_escape_first_then_pair_backticks():
    assert code_spans("`a<b>` & `c`") == "<code>a&lt;b&gt;</code> &amp; <code>c</code>"
    assert code_spans(f"`{HOSTILE}` {HOSTILE}") == ("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code> "
                                                     "&lt;script&gt;alert(1)&lt;/script&gt;")
    assert code_spans('say "`hi`"') == "say &#34;<code>hi</code>&#34;"
    assert isinstance(code_spans("x"), Markup)


def test_code_spans_leave_an_unpaired_backtick_literal():
    assert code_spans("`a` then `b") == "<code>a</code> then `b"
    assert code_spans("a ``b`` c") == "a ``b`` c"  # an empty pair is no code span
    assert code_spans("`one\ntwo`") == "<code>one\ntwo</code>"
    assert code_spans(None) == "" and code_spans(3) == "3"


def test_the_page_says_what_to_fix_first():
    page = feedback_html(PARTLY)
    assert "3 of 5 exercises get full marks; start with the first one below." in page
    order = [page.index(f'data-exercise="{e}"') for e in
             ("describe_tensor", "normalise", "make_constant", "reshape_pair", "count_values")]
    assert order == sorted(order)  # losers first, each group in the assignment's order
    assert "Everything passes: well done." in feedback_html(ALL_PASS)
    one = feedback_html(result([check("make_constant", "values", 1), check("normalise", "mean", 0)]))
    assert "1 of 2 exercises gets full marks" in one
    none = feedback_html(result([check("normalise", "mean", 0)]))
    assert "No exercise gets full marks yet; start with the first one below." in none


def test_the_page_keeps_what_it_showed():
    page = feedback_html(PARTLY)
    assert "Score: 8 / 14" in page and '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "Graded 2026-11-02T10:00:00+00:00 · grader 0.1.0 · hidden checks use other inputs" in page
    assert "check <code>shape</code>" in page and "hidden check <code>edge cases</code>" in page
    assert "<code>hidden 1</code>" in page and "hidden check <code>hidden 1</code>" not in page
    assert "<code>describe_tensor</code>: expected shape (2, 3)" in page
    assert "<script" not in page and "http" not in page  # as the batch test asks of real pages


def test_a_message_repeated_by_the_next_check_is_said_once():
    todo = "`reshape_pair` is not implemented yet"
    page = feedback_html(result([check("reshape_pair", n, 0, message=todo) for n in ("shape", "values", "dtype")]))
    assert page.count("is not implemented yet") == 1 and page.count("(same message as above)") == 2


def test_override_and_ungradable_pages_keep_their_meaning():
    overridden = feedback_html({**PARTLY, "override": {"score": 12, "reason": "late work accepted by hand"}})
    assert "Score: 12 / 14" in overridden
    assert "set by hand: late work accepted by hand; the checks below gave 8" in overridden
    broken = feedback_html(result([], status="invalid", message="not a notebook: `json` error <b>"))
    assert "Your submission could not be graded: not a notebook: <code>json</code> error &lt;b&gt;" in broken
    assert "Score:" not in broken and "<table" not in broken


# The browser: headless Chromium over --remote-debugging-pipe (its fds 3 and 4, JSON + NUL).

# Read in the page after it loaded: overflow, order, code elements, scripts, alignment.
MEASURE = """(() => {
  const root = document.documentElement;
  const textRight = el => { const r = document.createRange(); r.selectNodeContents(el);
                            return r.getBoundingClientRect().right; };
  const cells = cls => [...document.querySelectorAll(`table.summary td.${cls}`)].map(textRight);
  return {
    clientWidth: root.clientWidth,
    scrollWidth: Math.max(root.scrollWidth, document.body.scrollWidth),
    bodyWidth: document.body.getBoundingClientRect().width,
    scripts: document.scripts.length,
    sections: [...document.querySelectorAll("section[data-exercise]")]
      .map(s => [s.dataset.exercise, s.getBoundingClientRect().top]),
    rows: [...document.querySelectorAll("table.summary tbody th code")].map(c => c.textContent),
    codes: [...document.querySelectorAll("code")].map(c => c.textContent),
    gotRights: cells("got"), maxRights: cells("max"),
    text: document.body.innerText,
  };
})()"""

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--remote-debugging-pipe", "about:blank"]
TIMEOUT_S = 60


class Chromium:
    """One headless Chromium; :meth:`measure` opens a page in a fresh tab at a given width."""

    def __init__(self, exe: str, profile: Path):
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()
        self._log = profile.with_suffix(".log")
        with open(self._log, "wb") as log:
            # bash (dash takes one-digit fds only) puts our pipe ends on fds 3 and 4, where
            # Chromium expects them.
            self.proc = subprocess.Popen(
                ["bash", "-c", f'exec "$0" "$@" 3<&{to_browser} 4>&{from_browser}', exe, *FLAGS,
                 f"--user-data-dir={profile}"],
                pass_fds=(to_browser, from_browser), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        os.close(to_browser), os.close(from_browser)
        self._buffer, self._events, self._id, self.dialogs = b"", [], 0, []
        self._deadline = time.monotonic() + TIMEOUT_S

    def _receive(self) -> dict:
        while b"\0" not in self._buffer:
            left = self._deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError(f"chromium did not answer within {TIMEOUT_S} s; {self.log_tail()}")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium closed the protocol pipe; {self.log_tail()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._out, data):]
        while True:
            reply = self._receive()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self._events.append(reply)

    def wait_for(self, event: str, session: str) -> None:
        while True:
            while self._events:
                message = self._events.pop(0)
                if message.get("sessionId") != session:
                    continue
                if message.get("method") == "Page.javascriptDialogOpening":
                    # A hostile message's script ran: note it, and let the page go on.
                    self.dialogs.append(message["params"].get("message"))
                    self.call("Page.handleJavaScriptDialog", session, accept=True)
                elif message.get("method") == event:
                    return
            self._events.append(self._receive())

    def measure(self, url: str, width: int, height: int = 900) -> dict:
        self._deadline = time.monotonic() + TIMEOUT_S
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        try:
            session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self.call("Page.enable", session)
            # Below 600 px as a phone: the page's viewport meta then decides its layout width.
            self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                      deviceScaleFactor=1, mobile=width < 600)
            self.call("Page.navigate", session, url=url)
            self.wait_for("Page.loadEventFired", session)
            answer = self.call("Runtime.evaluate", session, expression=MEASURE, returnByValue=True)
            if "exceptionDetails" in answer:
                raise RuntimeError(f"measuring failed: {answer['exceptionDetails']}")
            return answer["result"]["value"]
        finally:
            self.call("Target.closeTarget", targetId=target)

    def log_tail(self) -> str:
        return "its log ends: " + self._log.read_text(errors="replace")[-2000:]

    def close(self) -> None:
        try:
            self._deadline = time.monotonic() + 10
            self.call("Browser.close")
            self.proc.wait(timeout=10)
        except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: its renderers go too
            self.proc.wait()
        finally:
            os.close(self._in), os.close(self._out)


def chromium_or_skip() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed, and CI runs the browser tests: bash tests/ensure-chromium.sh")
    pytest.skip("chromium is not installed (bash tests/ensure-chromium.sh installs it)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = chromium_or_skip()
    chromium = Chromium(exe, tmp_path_factory.mktemp("chromium") / "profile")
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pages")
    urls = {}
    for name, r in (("partly", PARTLY), ("all_pass", ALL_PASS), ("hostile", HOSTILE_PAGE)):
        path = folder / f"{name}.html"
        path.write_text(feedback_html(r), encoding="utf-8")
        urls[name] = path.as_uri()
    return urls


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_no_horizontal_overflow(browser, pages, width):
    m = browser.measure(pages["partly"], width)
    assert m["scrollWidth"] <= m["clientWidth"], f"the page is {m['scrollWidth']} px wide at {width} px"
    assert LONG_NAME in m["codes"] and LONG_ARRAY in m["text"].replace("\n", "")
    if width < 600:
        assert m["clientWidth"] == width  # laid out at the phone's width (the viewport meta), not 980 px
    else:
        assert m["bodyWidth"] < 900  # lines a laptop's reader can follow


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_failing_exercises_come_first_in_table_and_sections(browser, pages, width):
    m = browser.measure(pages["partly"], width)
    expected = ["describe_tensor", "normalise", "make_constant", "reshape_pair", "count_values"]
    assert m["rows"] == expected
    assert [name for name, _ in m["sections"]] == expected
    tops = [top for _, top in m["sections"]]
    assert tops == sorted(tops)
    assert m["text"].index("3 of 5 exercises get full marks") < m["text"].index("describe_tensor")


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_points_are_right_aligned_with_a_total(browser, pages, width):
    m = browser.measure(pages["partly"], width)
    assert len(m["gotRights"]) == len(m["maxRights"]) == 6  # five exercises and the total
    for rights in (m["gotRights"], m["maxRights"]):
        assert max(rights) - min(rights) < 1, rights


@pytest.mark.browser
def test_backtick_spans_are_code_elements(browser, pages):
    m = browser.measure(pages["partly"], 390)
    for code in ("describe_tensor", "normalise", "ZeroDivisionError", LONG_NAME):
        assert code in m["codes"]
    assert "`" not in m["text"]


@pytest.mark.browser
def test_a_hostile_message_stays_text(browser, pages):
    m = browser.measure(pages["hostile"], 390)
    assert m["scripts"] == 0 and browser.dialogs == []
    assert HOSTILE in m["codes"]  # inside backticks: shown as code
    assert f"printed {HOSTILE} and `unpaired" in m["text"]  # outside: shown as text, the lone ` kept


@pytest.mark.browser
def test_everything_passing_says_so_first(browser, pages):
    m = browser.measure(pages["all_pass"], 390)
    assert m["text"].index("Everything passes: well done.") < m["text"].index("make_constant")
    assert m["scrollWidth"] <= m["clientWidth"]
