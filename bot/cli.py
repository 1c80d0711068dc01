"""Admin command line: `python -m bot <command>` or `pepvoice <command>`.

For the administrators of the server: schools, staff, imports, the scheduled jobs, and the
data lifecycle. Staff read children's records and concerns in the review app (/review),
after logging in. What a command does to or reads of a child's record is audited as
"cli:<operating-system user>" (ACTOR).

Each command is one transaction: a refused command writes nothing.
Refusals print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import pwd
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.alerts.delivery import send_pending_alerts
from bot.db import migrate, session_scope
from bot.db_errors import describe as describe_database_error
from bot.models import PepStatus, Role
from bot.phases import parse_year_group, year_group_label
from bot.private_files import make_private
from bot.services import ServiceError, lifecycle, record_event
from bot.services import directory as dirsvc
from bot.services.access import AccessDenied
from bot.services.demo_themes import seed_theme_demo
from bot.services.demo_voice import DEMO_ANSWERED_CHILD, seed_answered_child
from bot.services.export import export_child_voice
from bot.services.invites import NewInvite, new_invite
from bot.services.notifications import send_teacher_notices
from bot.services.voice_export import BINARY_FORMATS, FORMATS, export_voice
from bot.settings import get_settings


def _os_user() -> str:
    """Who runs the command on the server (the effective user; under sudo, who asked)."""
    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no account, e.g. in a container
        name = f"uid {os.geteuid()}"
    sudo_user = os.environ.get("SUDO_USER") if os.geteuid() == 0 else None
    return f"{name} (sudo from {sudo_user})" if sudo_user and sudo_user != name else name


# The audit log's actor for everything done from the command line.
ACTOR = f"cli:{_os_user()}"[:200]
ADMIN_ONLY = "For administrators on the server (audited with your user name)"
EXIT_REFUSED = 2

DEMO_SCHOOL = "Demo Primary School"
DEMO_STAFF = (
    ("designated.teacher@example.org", Role.designated_teacher),
    ("dsl@example.org", Role.dsl),
    ("virtual.school@example.org", Role.virtual_school),
)
DEMO_CHILD, DEMO_YEAR = "Sam", 5
DEMO_THEMES_SCHOOL = "Demo Academy"
# Read by `make chat` (bot/terminal_chat.py) to start as the demo child.
DEMO_INVITE_FILE = "demo-invite"
DEMO_LINK_FILE = "demo-link"
# The demo staff logins for the review app (email, role, password), mode 0600.
DEMO_LOGINS_FILE = "demo-logins"


class Refused(Exception):
    """Bad input found by the CLI itself (before any service is called)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line instead of argparse's usage block.
        self.exit(EXIT_REFUSED, f"{self.prog}: error: {message} (see --help)\n")


def _positive_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an id: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"not an id: {text!r}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pepvoice",
        description=(
            "PEP Voice administration, for administrators on the server. Staff read "
            "children's records and safeguarding concerns in the review app (/review)."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("migrate", help="create or upgrade the database tables")

    p = sub.add_parser("add-school", help="add a school")
    p.add_argument("name")

    p = sub.add_parser("add-staff", help="add a staff user")
    p.add_argument("--school", required=True)
    p.add_argument("--email", required=True)
    # Checked by the service, so the message lists the valid roles.
    p.add_argument("--role", required=True, help=", ".join(r.value for r in Role))

    p = sub.add_parser("add-child", help="add a child (first name and year group only)")
    p.add_argument("--school", required=True)
    p.add_argument("--first-name", required=True)
    p.add_argument("--year-group", required=True, help="N, R or 1-13 (e.g. 5, Y5, 'Year 5')")

    p = sub.add_parser("add-pep", help="add a PEP for a child and print its invite code")
    p.add_argument("--child", required=True, type=_positive_id, help="child id")
    p.add_argument("--meeting-date", required=True, help="YYYY-MM-DD")

    p = sub.add_parser("new-invite", help="issue another invite code for a PEP")
    p.add_argument("--pep", required=True, type=_positive_id, help="PEP id")

    p = sub.add_parser(
        "list-peps",
        help="list PEPs (admin only, audited)",
        description=f"{ADMIN_ONLY}. Staff see their PEPs in the review app.",
    )
    p.add_argument("--school")

    p = sub.add_parser(
        "export",
        help="a PEP's child's voice as JSON, plain text, PDF or DOCX (admin only, audited)",
        description=f"{ADMIN_ONLY}. Staff download it from the review app.",
    )
    p.add_argument("--pep", required=True, type=_positive_id, help="PEP id")
    p.add_argument(
        "--format", choices=FORMATS, default="json", help="json (default), text, pdf or docx"
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write to a new file (mode 0600); pdf, docx need it",
    )

    sub.add_parser("seed-demo", help="create demo data (once) and print a fresh invite code")
    sub.add_parser(
        "send-reminders", help="remind children on Telegram before their meeting (run by cron)"
    )

    # Safeguarding alerts (bot.alerts); the DSL reads concerns in the review app.
    sub.add_parser(
        "send-pending-alerts",
        help="one pass of the alert worker: email every safeguarding alert due (for cron; "
        "the scheduler does this every ALERT_POLL_SECONDS)",
    )
    sub.add_parser(
        "scheduler",
        help="run the periodic jobs until stopped: alerts every few seconds, the rest every "
        "SCHEDULER_INTERVAL_SECONDS (bot.scheduler)",
    )
    sub.add_parser(
        "send-teacher-notices",
        help="email designated teachers: a child sent their views, or a meeting is near "
        "and the child has not started (run by the scheduler)",
    )

    # Data lifecycle (bot.services.lifecycle).
    p = sub.add_parser(
        "subject-access",
        help="everything held about a child, as JSON (subject access request; admin only)",
        description=f"{ADMIN_ONLY}.",
    )
    p.add_argument("--child", required=True, type=_positive_id, help="child id")
    p.add_argument(
        "--concerns-approved-by",
        metavar="DSL_EMAIL",
        help="release safeguarding concerns: the child's school's DSL has approved (recorded)",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="write to a new file (mode 0600)")
    p = sub.add_parser(
        "erase-child",
        help="delete everything held about a child, for good (admin only)",
        description=f"{ADMIN_ONLY}.",
    )
    p.add_argument("--child", required=True, type=_positive_id, help="child id")
    p.add_argument(
        "--concerns-approved-by",
        metavar="DSL_EMAIL",
        help="a child with safeguarding concerns: the school's DSL has copied them to the "
        "child-protection record and approves their erasure (recorded)",
    )
    p.add_argument("--confirm", action="store_true", help="yes, erase (cannot be undone)")
    sub.add_parser("apply-retention", help="delete what the retention rules expire (run by cron)")

    # Staff logins for the review app (bot.review).
    p = sub.add_parser(
        "set-password",
        help="set (or reset) a staff user's review app password; ends their sessions",
    )
    p.add_argument("--email", required=True, help="the staff user's email")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (no terminal prompt)",
    )
    return parser


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")


def web_link(invite: NewInvite) -> str:
    return f"{get_settings().web.base_url.rstrip('/')}/chat/link/{invite.link_token}"


def _print_invite(invite: NewInvite) -> None:
    """The code to type and the links to open; older invites for the PEP stop working."""
    from bot.telegram.messages import deep_link

    print(f"invite code: {invite.code} (until {invite.expires_at:%d %B %Y}; older invites revoked)")
    print(f"web chat link: {web_link(invite)}")
    link = deep_link(invite.link_token)
    if link is not None:
        print(f"Telegram link: {link}")


def _cmd_add_school(session: Session, args: argparse.Namespace) -> None:
    school = dirsvc.add_school(session, args.name, actor=ACTOR)
    print(f"school {school.id}: {school.name}")


def _cmd_add_staff(session: Session, args: argparse.Namespace) -> None:
    staff = dirsvc.add_staff(session, args.school, args.email, args.role, actor=ACTOR)
    print(f"staff {staff.id}: {staff.email} ({staff.role.value})")


def _cmd_add_child(session: Session, args: argparse.Namespace) -> None:
    try:
        year = parse_year_group(args.year_group)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    child = dirsvc.add_child(session, args.school, args.first_name, year, actor=ACTOR)
    print(f"child {child.id}: {child.first_name}, {year_group_label(year)}")


def _cmd_add_pep(session: Session, args: argparse.Namespace) -> None:
    pep = dirsvc.add_pep(session, args.child, args.meeting_date, actor=ACTOR)
    invite = new_invite(session, pep, actor=ACTOR)
    print(f"PEP {pep.id} (meeting {pep.meeting_date.isoformat()})")
    _print_invite(invite)


def _cmd_new_invite(session: Session, args: argparse.Namespace) -> None:
    _print_invite(new_invite(session, dirsvc.get_pep(session, args.pep), actor=ACTOR))


def table_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """The CLI's one table layout: left-aligned columns, two spaces apart, no trailing space."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def _cmd_list_peps(session: Session, args: argparse.Namespace) -> None:
    peps = dirsvc.list_peps(session, args.school)
    counts = dirsvc.answer_counts(session, (p.id for p in peps))
    record_event(session, ACTOR, "pep.listed", peps=len(peps), school=args.school)
    header = ("id", "child", "year", "phase", "meeting", "status", "answers")
    rows = [
        (
            str(p.id),
            p.child.first_name,
            year_group_label(p.child.year_group),
            p.child.phase.value,
            p.meeting_date.isoformat(),
            p.status.value,
            str(counts[p.id]),
        )
        for p in peps
    ]
    for line in table_lines([header, *rows]):
        print(line)
    if not rows:
        print("(no PEPs)")


def _cmd_export(session: Session, args: argparse.Namespace) -> None:
    out: Path | None = args.out
    if out is None and args.format == "json":
        document = export_child_voice(session, args.pep, ACTOR)
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if out is None and args.format in BINARY_FORMATS:
        raise Refused(f"--format {args.format} writes a file: add --out FILE")
    if out is not None and (out.exists() or out.is_symlink()):
        raise Refused(f"{out} already exists; choose a new file name")
    if out is not None and not out.parent.is_dir():
        raise Refused(f"no such folder: {out.parent}")
    exported = export_voice(session, args.pep, args.format, ACTOR)
    if out is None:
        print(exported.content.decode("utf-8"), end="")
        return
    try:
        _write_new_private_bytes(out, exported.content)
    except OSError as exc:
        raise Refused(f"could not write {out}: {exc.strerror}") from None
    print(f"PEP {args.pep} child's voice ({args.format}) written to {out} (mode 0600)")


def _write_new_private_bytes(path: Path, content: bytes) -> None:
    """Write `content` to a file that did not exist, readable only by this user."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)


def _cmd_seed_demo(session: Session, _args: argparse.Namespace) -> None:
    school = dirsvc.find_school(session, DEMO_SCHOOL)
    if school is None:
        school = dirsvc.add_school(session, DEMO_SCHOOL, actor=ACTOR)
        for email, role in DEMO_STAFF:
            dirsvc.add_staff(session, DEMO_SCHOOL, email, role, actor=ACTOR)
        print(f"created {DEMO_SCHOOL} with staff " + ", ".join(e for e, _ in DEMO_STAFF))
    pep = dirsvc.newest_pep_of_child_named(session, school.id, DEMO_CHILD)
    # A submitted demo PEP cannot be redeemed again, so start a new one.
    if pep is None or pep.status == PepStatus.submitted:
        child = dirsvc.child_named(session, school.id, DEMO_CHILD) or dirsvc.add_child(
            session, DEMO_SCHOOL, DEMO_CHILD, DEMO_YEAR, actor=ACTOR
        )
        meeting = date.today() + timedelta(days=30)
        pep = dirsvc.add_pep(session, child.id, meeting, actor=ACTOR)
        print(f"created demo PEP {pep.id} for {DEMO_CHILD} (Year {DEMO_YEAR}), meeting {meeting}")
    invite = new_invite(session, pep, actor=ACTOR)
    _write_private(get_settings().var_dir / DEMO_INVITE_FILE, invite.code + "\n")
    _write_private(get_settings().var_dir / DEMO_LINK_FILE, web_link(invite) + "\n")
    print(f"demo PEP {pep.id}")
    _print_invite(invite)
    base = get_settings().web.base_url.rstrip("/")
    answered = seed_answered_child(session, DEMO_SCHOOL, actor=ACTOR)
    if answered is not None:
        print(f"created {DEMO_ANSWERED_CHILD}'s answered reflection (PEP {answered.id})")
    # The Virtual School's themes need more children than one school's demo: another school.
    themes_school = dirsvc.find_school(session, DEMO_THEMES_SCHOOL) or dirsvc.add_school(
        session, DEMO_THEMES_SCHOOL, actor=ACTOR
    )
    if added := seed_theme_demo(session, themes_school):
        print(f"created {added} made-up children at {DEMO_THEMES_SCHOOL} for the themes page")
    print("next steps:")
    print(f"  1. log in to the review app as the designated teacher ({base}/review/login):")
    print(f"     {DEMO_ANSWERED_CHILD}'s child's voice is waiting for your review")
    print(
        f"  2. talk to the bot as {DEMO_CHILD}: make chat (or type {invite.code} in the web chat)"
    )
    print(f"     and see the answers arrive on the dashboard ({base}/review)")
    _seed_demo_logins(session)


def _seed_demo_logins(session: Session) -> None:
    """The demo staff's review app logins: passwords made and printed once, kept in
    var/demo-logins (0600); later runs only say where they are."""
    from bot.review.accounts import find_staff, set_password

    accounts = [
        find_staff(session, email)
        or dirsvc.add_staff(session, DEMO_SCHOOL, email, role, actor=ACTOR)
        for email, role in DEMO_STAFF
    ]
    url = f"{get_settings().web.base_url.rstrip('/')}/review/login"
    path = get_settings().var_dir / DEMO_LOGINS_FILE
    if all(staff.password_hash for staff in accounts):
        print(f"staff review app: {url} (demo logins in {path})")
        return
    logins = []
    for staff in accounts:
        password = secrets.token_urlsafe(12)
        set_password(session, staff, password, actor=ACTOR)
        logins.append((staff.email, password, f"({staff.role.value})"))
    lines = table_lines(logins)
    _write_private(path, f"{url}\n" + "\n".join(lines) + "\n")
    print(f"staff review app: {url}")
    print(f"  demo logins (shown once; kept in {path}, mode 0600):")
    for line in lines:
        print(f"    {line}")


def _send_pending_alerts(_args: argparse.Namespace) -> int:
    result = send_pending_alerts()
    print(
        f"alerts sent: {result.sent}; still unsent: {result.unsent}; "
        f"past the attempt limit: {result.abandoned}"
    )
    return 0 if result.unsent == result.abandoned == 0 else 1


def _scheduler(_args: argparse.Namespace) -> int:
    from bot.scheduler import main as run_scheduler

    return run_scheduler()


def _send_teacher_notices(_args: argparse.Namespace) -> int:
    result = send_teacher_notices()
    print(
        f"teacher notices sent: {result.sent}; not sent (retried next run): {result.failed}; "
        f"waiting for a designated teacher: {result.no_recipient}"
    )
    return 0 if result.failed == 0 else 1


def _send_reminders(_args: argparse.Namespace) -> int:
    # Async, one transaction per reminder: see bot.telegram.reminders.
    from bot.telegram.reminders import run_send_reminders

    try:
        return run_send_reminders()
    except RuntimeError as exc:  # no TELEGRAM_TOKEN
        raise Refused(str(exc)) from None


def _write_new_private(path: Path, text: str) -> None:
    """Write `text` to a file that did not exist, readable only by this user."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _subject_access(args: argparse.Namespace) -> int:
    # Own transaction: a refused request is still committed to the audit log.
    out: Path | None = args.out
    if out is not None and (out.exists() or out.is_symlink()):
        raise Refused(f"{out} already exists; choose a new file name")
    if out is not None and not out.parent.is_dir():
        raise Refused(f"no such folder: {out.parent}")
    refusal: AccessDenied | None = None
    with session_scope() as session:
        try:
            document = lifecycle.subject_access(
                session,
                args.child,
                actor=ACTOR,
                include_concerns_approved_by=args.concerns_approved_by,
            )
        except AccessDenied as exc:
            refusal = exc
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        print(text, end="")
        return 0
    try:
        _write_new_private(out, text)
    except OSError as exc:
        raise Refused(f"could not write {out}: {exc.strerror}") from None
    concerns = document["safeguarding_concerns"]
    released = "released" if concerns["released"] else "withheld pending DSL review"
    print(
        f"subject access for child {args.child} written to {out} (mode 0600); "
        f"safeguarding concerns: {concerns['count']} {released}; this has been recorded"
    )
    return 0


def _erase_child(args: argparse.Namespace) -> int:
    if not args.confirm:
        raise Refused(
            f"erase-child deletes child {args.child}'s data for good; add --confirm to go ahead"
        )
    # Own transaction: a refused request is still committed to the audit log.
    refusal: AccessDenied | None = None
    with session_scope() as session:
        try:
            counts = lifecycle.erase_child(
                session, args.child, actor=ACTOR, concerns_approved_by=args.concerns_approved_by
            )
        except AccessDenied as exc:
            refusal = exc
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"child {args.child} erased: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _cmd_apply_retention(session: Session, _args: argparse.Namespace) -> None:
    counts = lifecycle.apply_retention(session)
    print("retention applied: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not password:
            raise Refused("no password on standard input; nothing was changed")
        return password
    first = getpass.getpass("New password: ")
    if getpass.getpass("The same password again: ") != first:
        raise Refused("the two passwords differ; nothing was changed")
    return first


def _set_password(args: argparse.Namespace) -> int:
    """Admin work: set a staff user's password (read before the transaction starts)."""
    from bot.review.accounts import find_staff, password_problem, set_password

    password = _read_new_password(args.password_stdin)
    problem = password_problem(password, args.email)
    if problem is not None:
        raise Refused(f"{problem} Nothing was changed.")
    with session_scope() as session:
        staff = find_staff(session, args.email)
        if staff is None:
            raise Refused("no staff user has that email address")
        set_password(session, staff, password, actor=ACTOR)
        print(
            f"password set for staff {staff.id}: {staff.email} ({staff.role.value}); "
            "any sessions they had have ended"
        )
    return 0


# Commands that manage their own transactions.
_OWN_TRANSACTION: dict[str, Callable[[argparse.Namespace], int]] = {
    "send-pending-alerts": _send_pending_alerts,
    "scheduler": _scheduler,
    "send-teacher-notices": _send_teacher_notices,
    "send-reminders": _send_reminders,
    "subject-access": _subject_access,
    "erase-child": _erase_child,
    "set-password": _set_password,
}

# `migrate` is not here: it runs outside a session.
_COMMANDS: dict[str, Callable[[Session, argparse.Namespace], None]] = {
    "add-school": _cmd_add_school,
    "add-staff": _cmd_add_staff,
    "add-child": _cmd_add_child,
    "add-pep": _cmd_add_pep,
    "new-invite": _cmd_new_invite,
    "list-peps": _cmd_list_peps,
    "export": _cmd_export,
    "seed-demo": _cmd_seed_demo,
    "apply-retention": _cmd_apply_retention,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_REFUSED
    try:
        if args.command == "migrate":
            migrate()
            print("database is up to date")
            if changed := make_private(get_settings().var_dir):
                print(f"made {changed} files under var/ private to this user")
            return 0
        if args.command in _OWN_TRANSACTION:
            return _OWN_TRANSACTION[args.command](args)
        with session_scope() as session:
            _COMMANDS[args.command](session, args)
    except (ServiceError, Refused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except DBAPIError as exc:
        # What really happened (busy, not migrated, cannot open), never row values.
        message = describe_database_error(exc, get_settings().database.url)
        print(f"error: {message}", file=sys.stderr)
        return 1
    return 0
