"""Public checks in a student's own notebook kernel (the cells ``autograder release`` writes).

The student notebook carries one helper cell holding a bundle: the modules listed in
:data:`BUNDLED` (this one included), the assignment's public check file and its public
reference values (plain data, as in ``public_reference.json``). Each exercise's check cell
calls :meth:`NotebookChecks.check`, the last cell :meth:`NotebookChecks.summary`.

A check here goes through the code ``autograder check`` uses: the same probe call
(:func:`autograder.checks.observe.run_check`), the same bounds on what an observation may hold
(:func:`autograder.sandbox.events.observation`), the same judge and the same words
(:mod:`autograder.checks.wording`), so the notebook and ``autograder check`` agree on every
verdict and message. Only TensorFlow and numpy are needed. Nothing here raises into the
notebook: a check cell prints its verdict, so Run All reaches the last cell.
"""

from __future__ import annotations

import json

# The modules a notebook's bundle holds (module name -> path in the package).
BUNDLED = {
    "autograder": "__init__.py",
    "autograder.notebooks": "notebooks/__init__.py",
    "autograder.checks": "checks/__init__.py",
    "autograder.errors": "errors.py",
    "autograder.result": "result.py",
    "autograder.checks.plaindata": "checks/plaindata.py",
    "autograder.checks.diagnosis": "checks/diagnosis.py",
    "autograder.checks.inputs": "checks/inputs.py",
    "autograder.checks.rules": "checks/rules.py",
    "autograder.checks.spec": "checks/spec.py",
    "autograder.authoring": "authoring.py",
    "autograder.checks.probe_tools": "checks/probe_tools.py",
    "autograder.checks.artefacts": "checks/artefacts.py",
    "autograder.checks.hints": "checks/hints.py",
    "autograder.checks.judge": "checks/judge.py",
    "autograder.checks.wording": "checks/wording.py",
    "autograder.checks.observe": "checks/observe.py",
    "autograder.checks.loading": "checks/loading.py",
    "autograder.notebooks.selfcheck": "notebooks/selfcheck.py",
    "autograder.sandbox": "sandbox/__init__.py",
    "autograder.sandbox.events": "sandbox/events.py",
}


class NotebookChecks:
    """The public checks of one assignment, run on the functions of a kernel's namespace."""

    def __init__(self, namespace: dict, bundle: dict):
        from autograder.checks.loading import load_modules

        self.namespace = namespace
        self.assignment = bundle["assignment"]
        module = load_modules([(bundle["module"], bundle["path"], bundle["checks"])])[0]
        self.checks = [c for c in getattr(module, "CHECKS", []) if not c.hidden]
        self.reference = bundle["reference"]
        self.worth = self.reference.get("points", {})

    def exercises(self) -> list[str]:
        return list(dict.fromkeys(c.exercise for c in self.checks))

    def results(self, exercise: str) -> list:
        """The exercise's check results, judged now: never remembered, because an exercise's
        function may call others (or helpers) the student has changed since."""
        return self._judge(exercise)

    def _judge(self, exercise: str) -> list:
        from autograder.checks.judge import judge_all
        from autograder.checks.observe import run_check
        from autograder.sandbox.events import Fault, observation

        checks = [c for c in self.checks if c.exercise == exercise]
        # Through JSON and the event channel's bounds, as every observation of the grader.
        observations = {c.id: observation(json.loads(json.dumps(run_check(c, self.namespace)))) for c in checks}
        syntax = {}
        if any(o.kind is Fault.MISSING for o in observations.values()):
            problem = self._syntax_problem(exercise)
            if problem:
                syntax[exercise] = problem
        return judge_all(checks, observations, self.reference, syntax)

    def _syntax_problem(self, exercise: str) -> str | None:
        """How the latest cell that defines the exercise fails to compile (from the kernel's
        input history, as the grader does from the submission's answer cell)."""
        from autograder.checks.judge import defines, syntax_problem

        history = self.namespace.get("In") or self.namespace.get("_ih") or []
        for source in reversed(list(history)):
            if isinstance(source, str) and defines(source, exercise):
                return syntax_problem(source)
        return None

    def check(self, exercise: str) -> None:
        """Print the exercise's verdict and messages, like ``autograder check``; never raise."""
        from autograder.checks.wording import exercise_lines

        try:
            print("\n".join(exercise_lines(self.results(exercise), show_points=False, worth=self.worth)))
        except Exception as exc:  # noqa: BLE001 - a check cell must not stop Run All
            print(f"[FAIL] {exercise}: the check could not run ({type(exc).__name__}: {str(exc)[:300]}); "
                  "run the notebook's first cells again, then this one")

    def summary(self) -> None:
        """Every exercise's public checks (again where the function changed) and the points."""
        from autograder.checks.wording import check_report

        try:
            results = [r for exercise in self.exercises() for r in self.results(exercise)]
            print(check_report(self.assignment, "this notebook", results, self.worth), end="")
        except Exception as exc:  # noqa: BLE001
            print(f"The summary could not be computed ({type(exc).__name__}: {str(exc)[:300]})")
