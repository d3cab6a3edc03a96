"""The LMS's own roster file in the service, and the LMS import files made from it.

Staff upload the file ``autograder grade --roster`` reads (:mod:`autograder.lms.roster`): the Canvas
gradebook export (Grades > Export) or the Moodle grading worksheet (View all submissions > Download
grading worksheet). Each person on it gets an account (or is matched to one) with a sign-in link,
as the CSV roster does, and the file is kept whole with who is who (:class:`LmsMember`). The
Canvas import file and the filled-in worksheet are then :mod:`autograder.lms.exports`' own, written
from the counted results exactly as ``grade`` writes them from its gradebook.

Who is who: a Canvas person is the account already linked to their Canvas user id, else the account
named by their SIS Login ID, else a new account of that name (the Canvas user id when there is no
login id). A Moodle person (participant ids are per assignment) is the account with their email
address, else a new account named by it (``participant-<id>`` when the worksheet has no email).
An existing account keeps its role.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from autograder.errors import UsageError
from autograder.lms.roster import Person, Roster, parse_roster
from autograder.service.accounts import Imported, ensure_account
from autograder.service.models import Assignment, LmsMember, LmsRoster, Profile, Role, SignInLink

KINDS = {"canvas": "Canvas gradebook export", "moodle-worksheet": "Moodle grading worksheet"}
MAX_BYTES = 5 * 2**20


@dataclass
class LmsImport:
    """What an upload of the LMS's roster did."""

    kind: str
    column: str
    accounts: list[Imported] = field(default_factory=list)


def read(data: bytes, filename: str) -> Roster:
    """The uploaded file as ``grade --roster`` reads it; a file of another kind is refused."""
    if len(data) > MAX_BYTES:
        raise UsageError(f"{filename}: over {MAX_BYTES // 2**20} MB, too large for a roster")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{filename}: not UTF-8 text ({exc.reason} at byte {exc.start}); upload the CSV "
                         "file as the LMS wrote it") from None
    roster = parse_roster(text, filename)
    if roster.kind == "moodle-participants":
        raise UsageError(f"{filename} is Moodle's participants table, which holds no participant ids: download "
                         "the assignment's grading worksheet instead (View all submissions > Grading action > "
                         "Download grading worksheet)")
    if not roster.people:
        raise UsageError(f"{filename}: no student in it (a Canvas export's students have a numeric ID; a "
                         "worksheet's rows an Identifier 'Participant N')")
    return roster


def import_roster(assignment: Assignment, data: bytes, filename: str, column: str = "",
                  missing_as_zero: bool = False, by=None, links: bool = True) -> LmsImport:
    """Accounts for the roster's people (a fresh sign-in link each, as the CSV roster gives; with
    ``links=False`` only the new accounts get one), and the file kept for the exports. Refused
    (UsageError, nothing changed) when it is not one of :data:`KINDS` or, for Canvas, when it has
    no single column of this assignment (or ``column`` is not one of its columns)."""
    from autograder.lms.exports import canvas_column

    roster = read(data, filename)
    if roster.kind == "canvas":
        column = canvas_column(roster, assignment.name, column or None)
    elif column:
        raise UsageError("a grade column is for a Canvas gradebook export only (a Moodle worksheet has its own)")
    done = LmsImport(roster.kind, column)
    with transaction.atomic():
        kept, _ = LmsRoster.objects.update_or_create(assignment=assignment, defaults={
            "kind": roster.kind, "filename": filename[:255], "text": data.decode("utf-8-sig"), "column": column,
            "missing_as_zero": missing_as_zero, "by": by})
        kept.members.all().delete()
        seen: dict[int, Person] = {}
        for person in roster.people:
            user, created = _account(roster.kind, person)
            if user.pk in seen:   # rolled back with the whole upload
                raise UsageError(f"{filename}: {seen[user.pk].name} ({seen[user.pk].id}) and {person.name} "
                                 f"({person.id}) are the same account here, {user.username}: each student needs "
                                 "their own id (and email address) on the roster")
            seen[user.pk] = person
            LmsMember.objects.create(roster=kept, user=user, lms_id=person.id)
            token = SignInLink.issue(user) if links or created else ""
            done.accounts.append(Imported(user.username, person.name, user.profile.role, created, token))
    return done


def _account(kind: str, person: Person):
    """The person's account (found or made), and whether it is new."""
    User = get_user_model()
    if kind == "canvas":
        linked = LmsMember.objects.filter(roster__kind="canvas", lms_id=person.id).select_related("user").first()
        if linked is not None:
            return _named(linked.user, person), False
        username = person.sis_login_id or person.id
        found = User.objects.filter(username=username).first()
    else:
        username = person.email or f"participant-{person.id}"
        found = (User.objects.filter(email__iexact=person.email).order_by("pk").first() if person.email else None
                 ) or User.objects.filter(username=username).first()
    if found is not None:
        return _named(found, person), False
    user, _ = ensure_account(username, person.name, person.email, Role.STUDENT)
    return user, True


def _named(user, person: Person):
    profile, _ = Profile.objects.get_or_create(user=user)
    if person.name and profile.display_name != person.name:
        profile.display_name = person.name
        profile.save(update_fields=["display_name"])
    return user


def roster_of(assignment: Assignment) -> tuple[LmsRoster, Roster] | None:
    kept = LmsRoster.objects.filter(assignment=assignment).first()
    if kept is None:
        return None
    return kept, parse_roster(kept.text, kept.filename)


def export(assignment: Assignment) -> tuple[str, str, list[str]] | None:
    """The LMS import file of the assignment's roster: its name (``NAME-canvas.csv`` or
    ``NAME-moodle.csv``, as ``grade`` names it), its text and what to tell staff; None without a
    roster. The counted results (overrides applied) as the gradebook gives them
    (:func:`autograder.service.policy.gradebook_results`), each under its LMS id, and a
    ``missing`` result for each roster student who handed in nothing, as ``grade`` adds them."""
    from autograder.lms.exports import canvas_csv, missing_results, moodle_worksheet
    from autograder.service.policy import gradebook_results

    found = roster_of(assignment)
    if found is None:
        return None
    kept, roster = found
    ids = dict(kept.members.values_list("user__username", "lms_id"))
    people = roster.by_id()
    results = []
    for r in gradebook_results(assignment):
        lms_id = ids.get(r["student"])
        if lms_id is not None:
            key = "user_id" if roster.kind == "canvas" else "participant"
            person = people[lms_id]
            r = dict(r, student=lms_id, name=person.name,
                     lms={key: lms_id, "sis_user_id": person.sis_user_id, "sis_login_id": person.sis_login_id,
                          "section": person.section})
        results.append(r)
    max_score = max((r.get("max_score") or 0 for r in results), default=0)
    everyone = results + missing_results(results, roster, assignment.name, max_score)
    if roster.kind == "canvas":
        text, notes = canvas_csv(everyone, assignment.name, roster, kept.column or None, kept.missing_as_zero)
        return f"{assignment.name}-canvas.csv", text, notes
    text, notes = moodle_worksheet(everyone, roster, kept.missing_as_zero)
    return f"{assignment.name}-moodle.csv", text, notes
