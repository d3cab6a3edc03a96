"""Every error the package raises on purpose, in one place, by who is at fault.

No imports: the sandbox's worker and the notebook's self-check load this module too.
The command line maps them to exit codes (:mod:`autograder.cli`): 2 for a usage error
or an unusable sandbox, 1 for a course that fails its own rules.
"""

from __future__ import annotations


# -- the person at the keyboard -------------------------------------------------------------
class UsageError(Exception):
    """A command-line mistake (exit status 2)."""


# -- the student's submission -----------------------------------------------------------------
class InvalidSubmission(Exception):
    """A submission that cannot be graded; the message names the problem."""


class ArchiveRefused(ValueError):
    """An archive that could write outside its folder or exhaust the machine."""


# -- the instructor's course -----------------------------------------------------------------
class CheckFileError(Exception):
    """A check file that cannot be used; ``str()`` is ``path:line: message``."""

    def __init__(self, path, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}")


class SolutionFailsChecks(RuntimeError):
    """The reference solution does not pass its own checks: an instructor bug."""


class ReleaseError(RuntimeError):
    """The release would ship public checks that miss a known mistake, or stale files."""


# -- what crosses the sandbox's boundary (written by an adversary) ------------------------------
class DecodeError(ValueError):
    """The sandbox sent something that is not valid plain data."""


class Malformed(ValueError):
    """A line of the event channel that is not a JSON object."""


class ArtefactError(ValueError):
    """A recorded graph or model the judge cannot use; the message says why, for the student."""


# -- the machine -------------------------------------------------------------------------------
class SandboxError(RuntimeError):
    """The sandbox itself could not run (not the student's fault); also a step of the
    confinement the kernel refused (the run must not go on)."""


class SandboxUnavailable(RuntimeError):
    """A backend cannot be used here as asked; the message says why and what to do instead."""


class UidRangeError(ValueError):
    """AUTOGRADER_SANDBOX_UIDS is not a usable range."""
