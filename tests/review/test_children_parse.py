"""Reading a CSV file of children: rows, and every bad row's number and reason (no database)."""

from __future__ import annotations

from datetime import date

from bot.services.child_import import MAX_BYTES, MAX_ROWS, check_meeting_date, parse_csv

TODAY = date(2030, 1, 1)
HEADER = "first_name,year_group,meeting_date\n"


def test_a_good_file_gives_its_rows() -> None:
    parsed = parse_csv(
        HEADER + "Robin,Y5,2030-01-15\nSam,R,20/01/2030\nAlex,N,\n Jo  Anne ,year 13,2030-01-01\n",
        today=TODAY,
    )
    assert parsed.ok
    assert parsed.problems == [] and parsed.file_problem is None
    assert [(r.row, r.first_name, r.year_group, r.meeting_date) for r in parsed.rows] == [
        (2, "Robin", 5, date(2030, 1, 15)),
        (3, "Sam", 0, date(2030, 1, 20)),
        (4, "Alex", -1, None),
        (5, "Jo Anne", 13, date(2030, 1, 1)),  # today is not in the past
    ]
    assert parsed.meetings == 3


def test_bom_crlf_column_order_and_blank_lines() -> None:
    data = "\ufeffYear Group,First Name,Meeting Date\r\n\r\n5,Robin,15/01/2030\r\n,,\r\n"
    parsed = parse_csv(data.encode("utf-8"), today=TODAY)
    assert parsed.ok, parsed.problems
    assert [(r.row, r.first_name, r.year_group) for r in parsed.rows] == [(3, "Robin", 5)]


def test_the_meeting_date_column_may_be_left_out() -> None:
    parsed = parse_csv("first_name,year_group\nRobin,5\n", today=TODAY)
    assert parsed.ok and parsed.rows[0].meeting_date is None and parsed.meetings == 0


def test_every_bad_row_is_reported_with_its_number_and_reason() -> None:
    data = HEADER + "\n".join(
        [
            "Robin,Y5,2030-01-15",  # row 2: fine
            ",Y5,2030-01-15",  # 3: no name
            "A" * 51 + ",Y5,",  # 4: too long
            "Sam,Y15,",  # 5: not a year group
            "Kai,,",  # 6: no year group
            "Lee,5,2029-12-31",  # 7: in the past
            "Max,5,31/02/2030",  # 8: not a real date
            "Ola,5,next tuesday",  # 9: not a date
            "robin,5,15/01/2030",  # 10: the same as row 2
            "Zed,5,2035-01-01",  # 11: too far ahead
            "Ann,5,,extra",  # 12: a value without a column
            ",,2020-01-01",  # 13: three reasons
        ]
    )
    parsed = parse_csv(data, today=TODAY)
    assert not parsed.ok
    assert [r.row for r in parsed.rows] == [2]
    reasons = {p.row: p.reasons for p in parsed.problems}
    assert reasons == {
        3: ("The first name is missing.",),
        4: ("The first name is longer than 50 characters.",),
        5: ("“Y15” is not a year group (use N, R or 1 to 13, for example Y5).",),
        6: ("The year group is missing.",),
        7: ("The meeting date 31/12/2029 is in the past.",),
        8: ("“31/02/2030” is not a real date.",),
        9: (
            "“next tuesday” is not a date (use DD/MM/YYYY or YYYY-MM-DD, for example 15/01/2030).",
        ),
        10: ("The same as row 2.",),
        11: ("The meeting date 01/01/2035 is more than two years away.",),
        12: ("The row has more values than there are column names.",),
        13: (
            "The first name is missing.",
            "The year group is missing.",
            "The meeting date 01/01/2020 is in the past.",
        ),
    }


def test_a_whole_file_problem_gives_no_rows() -> None:
    def problem(data: bytes | str) -> str | None:
        parsed = parse_csv(data, today=TODAY)
        assert not parsed.ok and parsed.rows == []
        return parsed.file_problem

    assert "empty" in (problem("") or "")
    assert "empty" in (problem("\n ,\n") or "")
    assert "column names" in (problem("Robin,5,2030-01-15\n") or "")
    assert "no children" in (problem(HEADER) or "")
    assert "UTF-8" in (problem(HEADER.encode() + "Zoë,5,\n".encode("latin-1")) or "")
    assert "not a CSV" in (problem(HEADER + "Robin\x00,5,\n") or "")
    too_many = HEADER + "".join(f"Child{i},5,\n" for i in range(MAX_ROWS + 1))
    assert f"at most {MAX_ROWS}" in (problem(too_many) or "")
    assert parse_csv(HEADER + "".join(f"C{i},5,\n" for i in range(MAX_ROWS)), today=TODAY).ok
    too_big = HEADER + "Robin,5," + " " * MAX_BYTES + "\n"
    assert "bigger than 200 KB" in (problem(too_big) or "")


def test_other_columns_are_left_out_and_named() -> None:
    parsed = parse_csv("first_name,surname,year_group\nRobin,Smith,5\n", today=TODAY)
    assert parsed.ok
    assert parsed.ignored_columns == ["surname"]
    assert "Smith" not in parsed.canonical_csv()


def test_the_canonical_form_reads_back_the_same() -> None:
    parsed = parse_csv(
        HEADER + '"O\'Neil, ""Jo""",R,15/01/2030\nZoë,N,\nAmir,13,2030-02-01\n', today=TODAY
    )
    assert parsed.ok
    again = parse_csv(parsed.canonical_csv(), today=TODAY)
    assert again.ok
    assert [(r.first_name, r.year_group, r.meeting_date) for r in again.rows] == [
        (r.first_name, r.year_group, r.meeting_date) for r in parsed.rows
    ]


def test_one_meeting_date() -> None:
    assert check_meeting_date("", TODAY) == (None, None)
    assert check_meeting_date("2030-1-5", TODAY) == (date(2030, 1, 5), None)
    assert check_meeting_date("5/1/2030", TODAY) == (date(2030, 1, 5), None)
    assert check_meeting_date("01/13/2030", TODAY)[1] == "“01/13/2030” is not a real date."
