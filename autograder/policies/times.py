"""When a submission was handed in, from what each LMS's download says (or does not say).

* **Blackboard**: the attempt's time in every file name, ``..._attempt_YYYY-MM-DD-HH-MM-SS...``
  (intake keeps it as ``lms["attempt"]``). Blackboard writes the institution's local time; it is
  read in the course's time zone (``[policy] time_zone``).
* **Moodle**: the grading worksheet's ``Last modified (submission)`` column, which moodle/moodle
  writes with ``userdate($timesubmitted)`` (``mod/assign/gradingtable.php``, ``col_timesubmitted``)
  in the default format ``strftimedaydatetime``, ``%A, %d %B %Y, %I:%M %p`` in English
  (``lang/en/langconfig.php``; ``userdate`` drops the leading zero of the day and of the hour):
  ``Friday, 5 December 2025, 2:30 PM``, in the downloading teacher's Moodle time zone (read in
  the course's), to the minute; ``-`` when nothing was submitted. A worksheet in another
  language's format is not guessed: that student's time is unknown, and said so.
* **Canvas**: its "Download Submissions" zip says only ``_LATE`` (``LATE_`` when anonymous) in
  the names (instructure/canvas-lms ``lib/content_zipper.rb``, ``get_filename``:
  ``submission.late?``). The entries' own timestamps are not the submission time: the zip is
  written with ``zipfile.get_output_stream(filename)``, which stamps each entry with the time
  the zip was made. So a Canvas submission is on time or "late by an unknown amount"
  (:mod:`autograder.policies.counting` says what that costs).
* A plain folder of notebooks, or nbgrader's layout, holds no submission time: file
  modification times say when a file was copied, not handed in, so they are never used.
"""

from __future__ import annotations

import re
from datetime import datetime

from autograder.policies.counting import Submitted
from autograder.policies.model import PolicyError, _localize

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MOODLE = re.compile(r"^\s*[A-Za-z]+,\s+(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]+)\s+(?P<year>\d{4}),\s+"
                     r"(?P<hour>\d{1,2}):(?P<minute>\d\d)\s*(?P<ampm>AM|PM|am|pm)\s*$")


def blackboard_time(attempt: str, zone: str) -> datetime:
    """``2026-11-02-09-30-00`` (the attempt part of a Blackboard name), in ``zone``."""
    try:
        naive = datetime.strptime(attempt, "%Y-%m-%d-%H-%M-%S")
    except ValueError:
        raise PolicyError(f"Blackboard attempt time {attempt!r} is not YYYY-MM-DD-HH-MM-SS") from None
    return _localize(naive, zone, f"Blackboard attempt {attempt}")


def moodle_time(text: str, zone: str) -> datetime | None:
    """Moodle's ``Last modified (submission)`` cell as an instant; None for ``-`` or a format
    other than English ``strftimedaydatetime``."""
    m = _MOODLE.match(text or "")
    if not m or m["month"].lower() not in _MONTHS:
        return None
    hour = int(m["hour"]) % 12 + (12 if m["ampm"].upper() == "PM" else 0)
    naive = datetime(int(m["year"]), _MONTHS.index(m["month"].lower()) + 1, int(m["day"]), hour, int(m["minute"]))
    return _localize(naive, zone, f"Moodle's Last modified (submission) {text!r}")


def submitted(lms: dict | None, zone: str, worksheet_row: dict | None = None) -> Submitted:
    """The submission time a stored result's LMS data holds (``worksheet_row``: the student's row
    of Moodle's grading worksheet, when one was given as the roster)."""
    lms = lms or {}
    layout = lms.get("layout")
    if layout == "blackboard" and lms.get("attempt"):
        return Submitted(blackboard_time(lms["attempt"], zone), source="the Blackboard attempt time")
    if layout == "canvas":
        return Submitted(None, bool(lms.get("late")), "Canvas")
    if layout == "moodle":
        cell = (worksheet_row or {}).get("Last modified (submission)", "")
        at = moodle_time(cell, zone)
        if at is not None:
            return Submitted(at, source="Moodle's grading worksheet")
        why = "Moodle's download (give its grading worksheet as --roster for the times)" if worksheet_row is None \
            else f"Moodle's grading worksheet (its Last modified (submission) is {cell!r})"
        return Submitted(None, source=why)
    return Submitted(None, source=f"the {layout or 'files'} layout")
