"""The service's fake grading: tests/fakes.py's sandbox (no TensorFlow), where a student whose
user name starts with "wrong" gets the public check wrong, "boom" makes the grader fail, and
"hang" waits while the file $AUTOGRADER_TEST_HANG exists (a worker to kill mid-grade)."""

from __future__ import annotations

import os
import time

from tests import fakes


class _Answers(dict):
    def get(self, label, default=None):
        return {fakes.PUBLIC: fakes.WRONG} if str(label).startswith("wrong") else {}


class _Sandbox(fakes.FakeSandbox):
    def run(self, job):
        if str(job.label).startswith("boom"):
            raise RuntimeError("the fake grader broke")
        if str(job.label).startswith("hang"):
            while os.path.exists(os.environ.get("AUTOGRADER_TEST_HANG", "/nonexistent")):
                time.sleep(0.1)
        return super().run(job)


def fake_sandbox(settings) -> fakes.FakeSandbox:
    sandbox = _Sandbox()
    sandbox.answers = _Answers()
    return sandbox
