"""One real grading through the service's worker path: the bundled course's 01_tf_basics solution,
graded by grading.grade_file (the library API) on the confined local backend, with TensorFlow."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_the_worker_grades_a_real_notebook_on_the_local_backend(svc, cache_dir, monkeypatch):
    from django.test import override_settings

    from autograder.service import grading

    monkeypatch.setenv("AUTOGRADER_CACHE", str(cache_dir))
    solution = ROOT / "solutions" / "01_tf_basics" / "01_tf_basics.ipynb"
    with override_settings(COURSE_ROOT=ROOT, SANDBOX_FACTORY="autograder.api.default_sandbox",
                           GRADING={"backend": "local"}):
        try:
            result = grading.grade_file("01_tf_basics", "ada", solution, "mine.ipynb")
        finally:
            grading.close_sandboxes()
    assert result["status"] == "graded" and result["score"] == result["max_score"] > 0
    assert result["student"] == "ada" and result["submission"] == "mine.ipynb" and result["backend"] == "local"
