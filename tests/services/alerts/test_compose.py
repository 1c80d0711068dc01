"""Who is told and what they are told, without a database or a mail server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.compose import DISCLOSURE_RESPONSE, compose_alert, compose_unrecorded_notice
from bot.alerts.delivery import next_attempt_at
from bot.alerts.facts import AlertFacts
from bot.alerts.recipients import Recipients, SchoolContacts, choose_recipients
from bot.domain_text import response_text
from bot.settings import Settings, WebSettings

AT = datetime(2030, 1, 10, 9, 30, tzinfo=UTC)
DSLS = ("dsl@oak.example", "deputy@oak.example")
VS = ("vs@oak.example",)


@pytest.mark.parametrize(
    ("contacts", "fallback", "expected"),
    [
        (SchoolContacts(dsls=DSLS, virtual_school=VS), "head@vs.example", Recipients(DSLS, "dsl")),
        (SchoolContacts(virtual_school=VS), "head@vs.example", Recipients(VS, "virtual_school")),
        (SchoolContacts(), " head@vs.example ", Recipients(("head@vs.example",), "fallback")),
        (SchoolContacts(), None, Recipients((), "none")),
        (SchoolContacts(), "  ", Recipients((), "none")),
    ],
)
def test_who_is_told(contacts: SchoolContacts, fallback: str | None, expected: Recipients) -> None:
    assert choose_recipients(contacts, fallback) == expected


def test_the_retry_policy_backs_off_then_repeats_its_last_pause() -> None:
    delays = (1.0, 5.0, 30.0)
    assert next_attempt_at(0, None, delays) is None  # never tried: due now
    assert next_attempt_at(0, AT, delays) is None  # reopened for an update: due now
    assert next_attempt_at(1, AT, delays) == AT + timedelta(seconds=1)
    assert next_attempt_at(3, AT, delays) == AT + timedelta(seconds=30)
    assert next_attempt_at(9, AT, delays) == AT + timedelta(seconds=30)
    assert next_attempt_at(2, AT, ()) == AT


def facts(**changes: object) -> AlertFacts:
    values: dict[str, object] = {
        "concern_id": 41, "created_at": AT, "category": "physical_abuse", "source": "engine",
        "question_key": "hard", "pep_id": 7, "child_first_name": "Robin", "year_group": 5,
        "school_name": "Oak Primary",
    }  # fmt: skip
    return AlertFacts(**{**values, **changes})  # type: ignore[arg-type]


def body(alert_facts: AlertFacts, kind: str = "dsl") -> str:
    settings = Settings(web=WebSettings(base_url="https://pep.example/"))
    message = compose_alert(alert_facts, Recipients(DSLS, kind), settings)  # type: ignore[arg-type]
    return str(message.get_content())


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("year_group", "phase", "says", "not_said"),
    [
        (5, "ks1_2", "Childline", "tell a grown-up at school"),
        (0, "early_years", "tell a grown-up at school", "Childline"),
        (None, None, "Childline", "tell a grown-up at school"),  # unlinked: no phase slot
    ],
)
def test_the_email_quotes_what_the_domain_told_the_child(
    year_group: int | None, phase: str | None, says: str, not_said: str
) -> None:
    text = one_line(body(facts(year_group=year_group)))
    assert one_line(response_text(DISCLOSURE_RESPONSE, phase=phase)) in text
    assert says in text and not_said not in text


def test_the_alert_says_what_it_may_and_links_to_the_concern() -> None:
    text = body(facts())
    for expected in (
        "Reference:  41",
        "Child:      Robin, Year 5",
        "School:     Oak Primary",
        "PEP:        7",
        "Time:       Thursday 10 January 2030, 09:30 (GMT, UK time)",
        "Category:   physical abuse (flagged by the safeguarding screen)",
        "Question:   hard",
        "https://pep.example/review/concerns/41",
        "Please act on it today",
    ):
        assert expected in text, expected
    assert max(len(line) for line in text.splitlines()) <= 78


def test_an_unlinked_chat_says_what_is_not_known() -> None:
    text = body(
        facts(pep_id=None, child_first_name=None, year_group=None, school_name=None,
              category="classifier", question_key=None),
        kind="fallback",
    )  # fmt: skip
    assert "Child:      not known yet" in text
    assert "PEP:        none" in text and "School:     not known" in text
    assert "not categorised (flagged by the language classifier)" in text
    assert "fallback safeguarding contact" in text


@pytest.mark.parametrize(("count", "words"), [(2, "2 further messages"), (1, "1 further message ")])
def test_an_update_counts_the_further_messages(count: int, words: str) -> None:
    update = facts(message_count=1 + count, alerted_message_count=1)
    settings = Settings()
    message = compose_alert(update, Recipients(DSLS, "dsl"), settings)
    assert message["Subject"] == "PEP Voice: the child said more about concern ref 41"
    assert words in str(message.get_content())
    assert "Please act on it today" not in str(message.get_content())


def test_the_unrecorded_notice() -> None:
    message = compose_unrecorded_notice(
        category="sexual_abuse", conversation_ref="abc123", at=AT, to="head@vs.example",
        settings=Settings(),
    )  # fmt: skip
    text = str(message.get_content())
    assert message["To"] == "head@vs.example"
    assert "Category:      sexual abuse" in text and "abc123" in text
    assert "Thursday 10 January 2030, 09:30 (GMT, UK time)" in text
