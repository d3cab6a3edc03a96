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
* A wall time inside a daylight-saving change: one that happens twice (the autumn fold) is
  read as the earlier instant, the one that makes the student least late, and said so; one
  that does not exist (the spring-forward gap, which no LMS writes) is no time at all, and
  said so. Neither stops a command: the time is the LMS's, not a value the instructor typed.
* A plain folder of notebooks, or nbgrader's layout, holds no submission time: file
  modification times say when a file was copied, not handed in, so they are never used.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from autograder.policies.counting import Submitted
from autograder.policies.model import PolicyError, _zone

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MOODLE = re.compile(r"^\s*[A-Za-z]+,\s+(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]+)\s+(?P<year>\d{4}),\s+"
                     r"(?P<hour>\d{1,2}):(?P<minute>\d\d)\s*(?P<ampm>AM|PM|am|pm)\s*$")


def blackboard_time(attempt: str, zone: str) -> datetime | None:
    """``2026-11-02-09-30-00`` (the attempt part of a Blackboard name), in ``zone``; None for
    a wall time that does not exist there."""
    return _instant(_blackboard_wall(attempt), zone)[0]


def _blackboard_wall(attempt: str) -> datetime:
    try:
        return datetime.strptime(attempt, "%Y-%m-%d-%H-%M-%S")
    except ValueError:
        raise PolicyError(f"Blackboard attempt time {attempt!r} is not YYYY-MM-DD-HH-MM-SS") from None


def moodle_time(text: str, zone: str) -> datetime | None:
    """Moodle's ``Last modified (submission)`` cell as an instant; None for ``-``, a format
    other than English ``strftimedaydatetime``, or a wall time that does not exist in ``zone``."""
    wall = _moodle_wall(text)
    return None if wall is None else _instant(wall, zone)[0]


def _moodle_wall(text: str) -> datetime | None:
    m = _MOODLE.match(text or "")
    if not m or m["month"].lower() not in _MONTHS:
        return None
    hour = int(m["hour"]) % 12 + (12 if m["ampm"].upper() == "PM" else 0)
    return datetime(int(m["year"]), _MONTHS.index(m["month"].lower()) + 1, int(m["day"]), hour, int(m["minute"]))


def _instant(wall: datetime, zone: str) -> tuple[datetime | None, str]:
    """An LMS's wall time in ``zone`` as an instant, and what was assumed ("" when nothing): in
    the autumn fold the earlier of the two instants; in the spring gap none."""
    tz = _zone(zone)
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first, ""
    real = [w for w in (first, second) if w.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) == wall]
    if not real:
        return None, f"{wall:%Y-%m-%d %H:%M} does not exist in {zone} (clocks go forward then)"
    earlier = min(w.astimezone(timezone.utc) for w in real)   # in UTC: a fold-dependent time compares unequal
    return earlier, (f"{wall:%Y-%m-%d %H:%M} happens twice in {zone} (clocks go back): the earlier, "
                     f"{earlier.astimezone(tz).isoformat(timespec='minutes')}, taken")


def _said(source: str, note: str) -> str:
    return f"{source} ({note})" if note else source


def submitted(lms: dict | None, zone: str, worksheet_row: dict | None = None) -> Submitted:
    """The submission time a stored result's LMS data holds (``worksheet_row``: the student's row
    of Moodle's grading worksheet, when one was given as the roster)."""
    lms = lms or {}
    layout = lms.get("layout")
    if layout == "blackboard" and lms.get("attempt"):
        at, note = _instant(_blackboard_wall(lms["attempt"]), zone)
        return Submitted(at, source=_said("the Blackboard attempt time", note))
    if layout == "canvas":
        return Submitted(None, bool(lms.get("late")), "Canvas")
    if layout == "moodle":
        cell = (worksheet_row or {}).get("Last modified (submission)", "")
        wall = _moodle_wall(cell)
        at, note = _instant(wall, zone) if wall is not None else (None, "")
        if at is not None or note:
            return Submitted(at, source=_said("Moodle's grading worksheet", note))
        why = "Moodle's download (give its grading worksheet as --roster for the times)" if worksheet_row is None \
            else f"Moodle's grading worksheet (its Last modified (submission) is {cell!r})"
        return Submitted(None, source=why)
    return Submitted(None, source=f"the {layout or 'files'} layout")
