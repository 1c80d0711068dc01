"""Adding children and their PEP meetings: checking one form's values, or a whole CSV file.

A file has a first line of column names, then one child a row:

    first_name,year_group,meeting_date
    Robin,Y5,2030-01-15
    Sam,R,15/01/2030
    Alex,N,

`meeting_date` (YYYY-MM-DD or DD/MM/YYYY) may be left empty: the child is added without a
meeting. Columns other than these three are left out (PEP Voice keeps first names only).

`parse_csv` is pure: it gives the rows and, for each bad row, its row number (as a
spreadsheet numbers it: the column names are row 1) and plain reasons. `import_rows` adds
them all in the caller's transaction, and refuses a file with any problem, so nothing is
ever imported half-way.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.models import School
from bot.phases import parse_year_group, year_group_label
from bot.services import ServiceError, record_event
from bot.services.directory import MAX_FIRST_NAME_CHARS, add_child, add_pep

MAX_ROWS = 500
MAX_BYTES = 200 * 1024
#: A meeting further ahead than this is taken for a typing mistake.
MAX_DAYS_AHEAD = 2 * 366
COLUMNS = ("first_name", "year_group", "meeting_date")
REQUIRED_COLUMNS = ("first_name", "year_group")
UK = ZoneInfo("Europe/London")

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# What a bad value is shown as in a reason: enough to find it, no more.
_SHOWN_CHARS = 20


class ImportRefused(ServiceError):
    """The file has problems: nothing was imported."""


def uk_today() -> date:
    return datetime.now(UK).date()


# --- One value at a time (the forms use these too) --------------------------------------------


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 1] + "…"


def check_first_name(text: str) -> tuple[str, str | None]:
    """The cleaned first name and None, or ("", the reason it cannot be used)."""
    name = " ".join(text.split())
    if not name:
        return "", "The first name is missing."
    if len(name) > MAX_FIRST_NAME_CHARS:
        return "", f"The first name is longer than {MAX_FIRST_NAME_CHARS} characters."
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "", "The first name has characters that cannot be used."
    return name, None


def check_year_group(text: str) -> tuple[int, str | None]:
    """The year group (-1 Nursery, 0 Reception, 1-13) and None, or (0, the reason)."""
    if not text.strip():
        return 0, "The year group is missing."
    try:
        return parse_year_group(text), None
    except ValueError:
        return 0, f"“{_shown(text)}” is not a year group (use N, R or 1 to 13, for example Y5)."


def check_meeting_date(text: str, today: date) -> tuple[date | None, str | None]:
    """A meeting date (YYYY-MM-DD or DD/MM/YYYY, today or later) and None; (None, None) for
    an empty value; or (None, the reason)."""
    value = text.strip()
    if not value:
        return None, None
    iso, uk = _ISO.match(value), _UK_DATE.match(value)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif uk:
        day, month, year = (int(g) for g in uk.groups())
    else:
        return None, (
            f"“{_shown(value)}” is not a date (use DD/MM/YYYY or YYYY-MM-DD, "
            "for example 15/01/2030)."
        )
    try:
        meeting = date(year, month, day)
    except ValueError:
        return None, f"“{_shown(value)}” is not a real date."
    if meeting < today:
        return None, f"The meeting date {meeting:%d/%m/%Y} is in the past."
    if meeting > today + timedelta(days=MAX_DAYS_AHEAD):
        return None, f"The meeting date {meeting:%d/%m/%Y} is more than two years away."
    return meeting, None


# --- A whole file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRow:
    row: int  # as a spreadsheet numbers it: the column names are row 1
    first_name: str
    year_group: int
    meeting_date: date | None

    @property
    def year_label(self) -> str:
        return year_group_label(self.year_group)


@dataclass(frozen=True)
class RowProblem:
    row: int
    reasons: tuple[str, ...]


@dataclass
class ParsedFile:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    #: A problem with the whole file (too big, not text, no column names): no rows then.
    file_problem: str | None = None
    #: Column names that were left out (surnames and the like are not kept).
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.file_problem is None and not self.problems and bool(self.rows)

    @property
    def meetings(self) -> int:
        return sum(1 for r in self.rows if r.meeting_date is not None)

    def canonical_csv(self) -> str:
        """The rows again as a CSV file in this module's own form (ISO dates), for the
        confirm form to carry back: parsing it gives the same rows."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in self.rows:
            writer.writerow(
                [r.first_name, r.year_label, r.meeting_date.isoformat() if r.meeting_date else ""]
            )
        return out.getvalue()


def _column_key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())


def _decode(data: bytes | str) -> tuple[str | None, str | None]:
    """The text and None, or None and the reason the file cannot be read."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        return None, (
            f"The file is bigger than {MAX_BYTES // 1024} KB. Please split it into smaller files."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, (
            "The file could not be read as text. Please save it from your spreadsheet as "
            "“CSV UTF-8 (comma delimited)” and try again."
        )
    if "\x00" in text:
        return None, "The file is not a CSV file. Please choose a .csv file."
    return text, None


def parse_csv(data: bytes | str, *, today: date) -> ParsedFile:
    """Check a CSV file (UTF-8, with or without a byte order mark). Pure: no database."""
    result = ParsedFile()
    text, problem = _decode(data)
    if text is None:
        result.file_problem = problem
        return result
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        result.file_problem = "The file is not a CSV file that can be read. Please check it."
        return result
    header_index = next((i for i, rec in enumerate(records) if any(c.strip() for c in rec)), None)
    if header_index is None:
        result.file_problem = "The file is empty."
        return result
    header = [_column_key(c) for c in records[header_index]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        result.file_problem = (
            "The first line must be the column names: first_name, year_group, meeting_date "
            "(meeting_date may be left out)."
        )
        return result
    positions = {name: header.index(name) for name in COLUMNS if name in header}
    result.ignored_columns = [
        c.strip() for c, key in zip(records[header_index], header, strict=True)
        if key not in COLUMNS and c.strip()
    ]  # fmt: skip
    data_rows = [
        (number, rec)
        for number, rec in enumerate(records[header_index + 1 :], start=header_index + 2)
        if any(c.strip() for c in rec)
    ]
    if not data_rows:
        result.file_problem = "The file has column names but no children in it."
        return result
    if len(data_rows) > MAX_ROWS:
        result.file_problem = (
            f"The file has {len(data_rows)} rows of children; at most {MAX_ROWS} can be added "
            "at once. Please split it into smaller files."
        )
        return result
    seen: dict[tuple[str, int, date | None], int] = {}
    for number, rec in data_rows:

        def cell(name: str, rec: list[str] = rec) -> str:
            index = positions.get(name)
            return rec[index] if index is not None and index < len(rec) else ""

        reasons: list[str] = []
        if any(c.strip() for c in rec[len(header) :]):
            reasons.append("The row has more values than there are column names.")
        first_name, name_problem = check_first_name(cell("first_name"))
        year_group, year_problem = check_year_group(cell("year_group"))
        meeting, date_problem = check_meeting_date(cell("meeting_date"), today)
        reasons += [p for p in (name_problem, year_problem, date_problem) if p]
        if not reasons:
            key = (first_name.casefold(), year_group, meeting)
            if key in seen:
                reasons.append(f"The same as row {seen[key]}.")
            else:
                seen[key] = number
        if reasons:
            result.problems.append(RowProblem(number, tuple(reasons)))
        else:
            result.rows.append(ImportRow(number, first_name, year_group, meeting))
    return result


@dataclass(frozen=True)
class ImportResult:
    children: int
    meetings: int


def import_rows(
    session: Session, school_id: int, parsed: ParsedFile, *, actor: str, **audit: Any
) -> ImportResult:
    """Add every row's child (and meeting) to the school, in the caller's transaction; a
    file with any problem is refused whole (ImportRefused). Audited with counts only."""
    if not parsed.ok:
        raise ImportRefused("The file has problems, so nothing was imported.")
    school = session.get(School, school_id)
    if school is None:
        raise ImportRefused("That school could not be found.")
    meetings = 0
    for row in parsed.rows:
        child = add_child(session, school.name, row.first_name, row.year_group, actor=actor)
        if row.meeting_date is not None:
            add_pep(session, child.id, row.meeting_date, actor=actor)
            meetings += 1
    record_event(
        session, actor, "children.imported", school_id=school.id, children=len(parsed.rows),
        meetings=meetings, **audit,
    )  # fmt: skip
    return ImportResult(len(parsed.rows), meetings)
