"""The policy model: frozen records of a course's rules, and their one parser (from ``course.toml``'s tables).

A :class:`Policy` is what one assignment's counted score obeys: its due date (a local time in
an IANA time zone, :class:`Due`), its late penalty (:class:`LateRule`), the course's late-day
budget (:class:`LateDays`), which submission counts (:class:`Counts`), a rate limit and when
hidden results show. A per-student :class:`Extension` moves that student's due date. Every
value is checked when it is read: a bad one is a :class:`autograder.errors.PolicyError`
naming the key and what would be right, never a guess.

Times: every instant is an aware :class:`datetime.datetime`; lateness is real elapsed time
(UTC arithmetic), so a due date on the eve of a daylight-saving change is neither an hour
shorter nor longer. A local time that does not exist (inside the spring-forward gap) or
exists twice (the autumn fold) is refused, with the offset to write instead.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autograder.errors import UsageError

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


class PolicyError(UsageError):
    """A course policy (``course.toml``'s ``[policy]``, ``--due``, ``--until``) that cannot be applied.
    Here, not in :mod:`autograder.errors`: that module is bundled into every student notebook."""


class LateKind(enum.Enum):
    NONE = "none"                  # late work accepted in full (still marked late)
    NO_LATE_WORK = "no_late_work"  # any lateness counts 0
    PER_DAY = "per_day"            # percent of the maximum per started day (24 h of real time)
    PER_HOUR = "per_hour"          # percent of the maximum per started hour


class Counts(enum.Enum):
    """Which of a student's submissions counts."""
    LATEST = "latest"
    BEST = "best"                          # the highest counted score (penalties applied)
    LATEST_BEFORE_DUE = "latest_before_due"  # the latest on time; the latest of all when none is


class HiddenResults(enum.Enum):
    """When students see their hidden checks' results (the submission service shows them)."""
    ALWAYS = "always"
    AFTER_DUE = "after_due"
    NEVER = "never"


@dataclass(frozen=True)
class Due:
    """A due instant, and the zone its local time was given in (for words and for ``--until``)."""
    at: datetime      # aware
    zone: str         # IANA name, or "UTC+02:00" for a time given with an offset

    def local(self) -> str:
        return f"{self.at.astimezone(_zone(self.zone)):%Y-%m-%d %H:%M} {self.zone}"


@dataclass(frozen=True)
class LateRule:
    kind: LateKind = LateKind.NONE
    percent: float = 0.0                 # of the maximum score, per started period
    at_most: int | None = None           # periods late accepted; later counts 0
    grace: timedelta = timedelta(0)      # lateness up to this counts as on time

    @property
    def period(self) -> timedelta:
        return HOUR if self.kind is LateKind.PER_HOUR else DAY

    def words(self) -> str:
        """The rule as a student reads it: "10% per started day, at most 3 days"."""
        grace = f"; {_span(self.grace)} of grace" if self.grace else ""
        if self.kind is LateKind.NONE:
            return "late work accepted without penalty" + grace
        if self.kind is LateKind.NO_LATE_WORK:
            return "no late work accepted" + grace
        unit = "hour" if self.kind is LateKind.PER_HOUR else "day"
        limit = f", at most {_plural(self.at_most, unit)}, then 0" if self.at_most is not None else ""
        return f"{self.percent:g}% per started {unit}{limit}{grace}"


@dataclass(frozen=True)
class LateDays:
    """A budget of late days per student for the whole course, spent automatically in assignment
    due order; ``per_assignment`` caps what one assignment may use."""
    days: int = 0
    per_assignment: int | None = None


@dataclass(frozen=True)
class RateLimit:
    """At most ``submissions`` per ``per`` (the submission service enforces it)."""
    submissions: int
    per: timedelta


@dataclass(frozen=True)
class Extension:
    """One student's later due date for one assignment, with the reason; as the gradebook keeps it."""
    student: str
    assignment: str
    until: datetime       # aware
    reason: str
    granted_at: str = ""  # when it was recorded (ISO, UTC)
    id: int | None = None


@dataclass(frozen=True)
class Policy:
    """Everything that turns one assignment's automatic score into the counted one."""
    due: Due | None = None
    late: LateRule = LateRule()
    late_days: LateDays = LateDays()
    counts: Counts = Counts.LATEST
    rate_limit: RateLimit | None = None
    hidden_results: HiddenResults = HiddenResults.ALWAYS
    zone: str = "UTC"


@dataclass(frozen=True)
class CoursePolicies:
    """The course's policy and each assignment's own (the course's with its overrides applied)."""
    course: Policy = Policy()
    assignments: dict[str, Policy] = field(default_factory=dict)

    def of(self, assignment: str) -> Policy:
        return self.assignments.get(assignment, self.course)

    def with_due(self, assignment: str, due: Due) -> CoursePolicies:
        """These policies, the assignment's due date replaced (``grade --due``)."""
        from dataclasses import replace

        return CoursePolicies(self.course, {**self.assignments, assignment: replace(self.of(assignment), due=due)})

    def in_due_order(self) -> list[tuple[str, Policy]]:
        """The assignments with a due date, earliest first (then by name): the order late days are spent in."""
        dated = [(name, p) for name, p in self.assignments.items() if p.due is not None]
        return sorted(dated, key=lambda item: (item[1].due.at, item[0]))


NO_POLICIES = CoursePolicies()

# ------------------------------------------------------------------ parsing

POLICY_KEYS = {"time_zone", "due", "late", "late_days", "late_days_per_assignment", "counts", "rate_limit",
               "hidden_results"}
LATE_KEYS = {"rule", "percent", "at_most", "grace_minutes"}
RATE_KEYS = {"submissions", "per_minutes"}


def parse_course(data: dict, where: str) -> CoursePolicies:
    """``course.toml``'s ``[policy]`` and ``[assignments.NAME.policy]`` tables (``data`` is the
    whole file). An assignment's table replaces the course's keys it names; its ``late`` table
    replaces the course's whole."""
    base = data.get("policy", {})
    _table(base, f"{where}: [policy]", POLICY_KEYS)
    course = parse_policy(base, f"{where}: [policy]")
    assignments = {}
    listed = data.get("assignments", {})
    if not isinstance(listed, dict):
        raise PolicyError(f"{where}: [assignments] must be a table of assignments")
    for name, table in listed.items():
        _table(table, f"{where}: [assignments.{name}]", {"policy"})
        own = table.get("policy", {})
        _table(own, f"{where}: [assignments.{name}.policy]", POLICY_KEYS - {"time_zone", "late_days"})
        assignments[name] = parse_policy({**base, **own}, f"{where}: [assignments.{name}.policy]")
    return CoursePolicies(course, assignments)


def parse_policy(table: dict, where: str) -> Policy:
    zone = table.get("time_zone", "UTC")
    if not isinstance(zone, str):
        raise PolicyError(f"{where}: time_zone must be an IANA time zone name such as \"Europe/Berlin\"")
    _zone(zone, where)
    due = parse_time(table["due"], zone, f"{where}: due") if "due" in table else None
    days = _int(table.get("late_days", 0), f"{where}: late_days")
    cap = table.get("late_days_per_assignment")
    return Policy(due=due, late=parse_late(table.get("late", {}), f"{where}: late"),
                  late_days=LateDays(days, None if cap is None else _int(cap, f"{where}: late_days_per_assignment")),
                  counts=_enum(Counts, table.get("counts", "latest"), f"{where}: counts"),
                  rate_limit=_rate(table.get("rate_limit"), f"{where}: rate_limit"),
                  hidden_results=_enum(HiddenResults, table.get("hidden_results", "always"), f"{where}: hidden_results"),
                  zone=zone)


def parse_late(table: dict, where: str) -> LateRule:
    _table(table, where, LATE_KEYS)
    kind = _enum(LateKind, table.get("rule", "none"), f"{where}: rule")
    percent = table.get("percent", 0)
    if kind in (LateKind.PER_DAY, LateKind.PER_HOUR):
        if "percent" not in table:
            raise PolicyError(f"{where}: rule {kind.value!r} needs percent (e.g. percent = 10)")
        if isinstance(percent, bool) or not isinstance(percent, (int, float)) or not 0 < percent <= 100:
            raise PolicyError(f"{where}: percent must be a number above 0 and at most 100, not {percent!r}")
    elif "percent" in table or "at_most" in table:
        raise PolicyError(f"{where}: percent and at_most go with rule \"per_day\" or \"per_hour\", not {kind.value!r}")
    at_most = table.get("at_most")
    if at_most is not None:
        at_most = _int(at_most, f"{where}: at_most")
    grace = _minutes(table.get("grace_minutes", 0), f"{where}: grace_minutes")
    return LateRule(kind, float(percent), at_most, grace)


# The forms documented (docs/policies.md): a date, then optionally a time to the minute or
# second and an offset. Python's fromisoformat takes more (20260327, 2026-W13-5, 2026-03-27T23),
# each read as midnight or a whole hour, never as the 23:59 a date alone means: refused.
_FORM = re.compile(r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(\s?(Z|[+-]\d\d:?\d\d))?)?")


def parse_time(text: object, zone: str, where: str) -> Due:
    """A due date (or an extension's end): ``2026-03-27 23:59`` (in ``zone``), ``2026-03-27T23:59+01:00``
    (the offset decides), or ``2026-03-27 23:59 Europe/Berlin``. A date alone means 23:59 that day."""
    if isinstance(text, (datetime, date)):   # TOML's own dates and datetimes
        text = text.isoformat()
    if not isinstance(text, str) or not text.strip():
        raise PolicyError(f"{where}: a date and time such as \"2026-03-27 23:59\", not {text!r}")
    text = text.strip()
    parts = text.rsplit(" ", 1)
    if len(parts) == 2 and ("/" in parts[1] or parts[1] == "UTC"):
        text, zone = parts[0], parts[1]
    _zone(zone, where)
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        text += " 23:59"
    try:
        if not _FORM.fullmatch(text):
            raise ValueError(text)
        naive = datetime.fromisoformat(text.replace(" Z", "Z").replace(" +", "+").replace(" -", "-"))
    except ValueError:
        raise PolicyError(f"{where}: {text!r} is not a date and time such as \"2026-03-27 23:59\"") from None
    if naive.tzinfo is not None:
        offset = naive.strftime("%z")
        return Due(naive, f"UTC{offset[:3]}:{offset[3:]}")
    return Due(_localize(naive, zone, where), zone)


def _localize(naive: datetime, zone: str, where: str) -> datetime:
    tz = _zone(zone)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        back = [w.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) == naive for w in (first, second)]
        if all(back):
            raise PolicyError(f"{where}: {naive:%Y-%m-%d %H:%M} happens twice in {zone} (clocks go back): write it "
                              f"with its offset, {first.isoformat(timespec='minutes')} or "
                              f"{second.isoformat(timespec='minutes')}")
        raise PolicyError(f"{where}: {naive:%Y-%m-%d %H:%M} does not exist in {zone} (clocks go forward then)")
    return first


def _zone(name: str, where: str = "time_zone"):
    if name == "UTC":
        return timezone.utc
    fixed = re.fullmatch(r"UTC([+-])(\d\d):(\d\d)", name)
    if fixed:
        sign = 1 if fixed[1] == "+" else -1
        return timezone(sign * timedelta(hours=int(fixed[2]), minutes=int(fixed[3])))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"{where}: unknown time zone {name!r} (an IANA name such as \"Europe/Berlin\" or "
                          "\"America/New_York\")") from None


def _table(value: object, where: str, known: set[str]) -> None:
    if not isinstance(value, dict):
        raise PolicyError(f"{where} must be a table")
    unknown = sorted(set(value) - known)
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(f"{where} must be a whole number, 0 or more, not {value!r}")
    return value


def _enum(kind: type[enum.Enum], value: object, where: str):
    try:
        return kind(value)
    except ValueError:
        raise PolicyError(f"{where}: {value!r} is not one of {', '.join(repr(k.value) for k in kind)}") from None


def _rate(value: object, where: str) -> RateLimit | None:
    if value is None:
        return None
    _table(value, where, RATE_KEYS)
    if "submissions" not in value or "per_minutes" not in value:
        raise PolicyError(f"{where}: give submissions and per_minutes, e.g. {{submissions = 5, per_minutes = 60}}")
    count, per = _int(value["submissions"], f"{where}: submissions"), _minutes(value["per_minutes"],
                                                                             f"{where}: per_minutes")
    if not count or not per:
        raise PolicyError(f"{where}: submissions and per_minutes must be above 0")
    return RateLimit(count, per)


MAX_MINUTES = 366 * 24 * 60   # a year: any grace or rate window longer is a typo


def _minutes(value: object, where: str) -> timedelta:
    minutes = _int(value, where)
    if minutes > MAX_MINUTES:
        raise PolicyError(f"{where} must be at most {MAX_MINUTES} (a year), not {minutes!r}")
    return timedelta(minutes=minutes)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _span(delta: timedelta) -> str:
    """A duration in words: "1 day 3 hours", "25 minutes" (whole minutes, rounded up; seconds under one)."""
    seconds = math.ceil(delta.total_seconds())
    if 0 < seconds < 60:
        return _plural(seconds, "second")
    minutes = -(-seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [_plural(n, u) for n, u in ((days, "day"), (hours, "hour"), (minutes, "minute")) if n]
    return " ".join(parts[:2]) or "0 minutes"
