"""The child's voice review page: words verbatim and escaped, the teacher's wording beside
them (the child's never changed, every change kept), comments, approve, send back, history,
downloads; scope (404 for another school's PEP, 403 for the Virtual School's changes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot import db
from bot.models import (
    Answer,
    AnsweredBy,
    AnswerWordingEdit,
    AuditEvent,
    Pep,
    PepComment,
)
from bot.services.answers import record_answer, submit_voice
from bot.services.review import NOT_SUBMITTED
from tests.review.helpers import World, csrf_from, logged_in

SCRIPT = "<script>alert(1)</script><b>x</b>"
WORDS = 'I like art \U0001f3a8 and "maths"\nbut not spelling'
SECRET_WORDS = "Ravenglass is what I said"


@pytest.fixture
def answers(world: World) -> dict[str, int]:
    """Robin's (school A) answers: words with markup, a carer's answer, a skipped one."""
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None
        phase = pep.child.phase
        rows = {
            "answered_by": record_answer(session, pep, "answered_by", "child", "child", phase),
            "feeling_now": record_answer(session, pep, "feeling_now", SCRIPT, "child", phase),
            "going_well": record_answer(
                session, pep, "going_well", WORDS, AnsweredBy.with_carer, phase
            ),
            "hard": record_answer(
                session, pep, "hard", None, AnsweredBy.child, phase, skipped=True
            ),
        }
        other = session.get(Pep, world.pep_b)
        assert other is not None
        rows["other_school"] = record_answer(
            session, other, "feeling_now", SECRET_WORDS, "child", other.child.phase
        )
        session.flush()
        return {key: answer.id for key, answer in rows.items()}


def _submit(pep_id: int) -> None:
    with db.session_scope() as session:
        pep = session.get(Pep, pep_id)
        assert pep is not None
        submit_voice(session, pep)


def _page(c: TestClient, pep_id: int) -> tuple[str, str]:
    page = c.get(f"/review/peps/{pep_id}")
    assert page.status_code == 200, page.text
    return page.text, csrf_from(page.text)


def _events(action: str) -> list[AuditEvent]:
    with db.session_scope() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        session.expunge_all()
        return list(events)


def test_the_page_shows_the_words_verbatim_and_escaped(
    world: World, answers: dict[str, int]
) -> None:
    c = logged_in(world.dt_a)
    text, _ = _page(c, world.pep_a)
    assert "<h1>Robin's voice</h1>" in text and "Year 5" in text and "15 January 2030" in text
    assert "In progress" in text
    assert "<script>alert(1)</script>" not in text and "<b>x</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in text
    escaped_words = WORDS.replace('"', "&#34;")
    assert f"\u201c{escaped_words}\u201d" in text.replace("&ldquo;", "\u201c").replace(
        "&rdquo;", "\u201d"
    )
    assert "Said by Robin with a carer" in text and "Said by Robin," in text
    assert "Skipped: the child chose not to answer this." in text
    # Who answered is on each answer, not an answer of its own.
    assert f"/answers/{answers['answered_by']}/wording" not in text
    assert f"/answers/{answers['feeling_now']}/wording" in text
    for ext in ("pdf", "docx", "txt", "json"):
        assert f'href="/review/peps/{world.pep_a}/export.{ext}"' in text
    assert SECRET_WORDS not in text
    (viewed,) = _events("pep.viewed")
    assert viewed.pep_id == world.pep_a and viewed.detail["staff_id"] == world.dt_a.ctx.staff_id
    assert "alert" not in json.dumps(viewed.detail)


def test_home_links_each_childs_latest_pep(world: World, answers: dict[str, int]) -> None:
    c = logged_in(world.dt_a)
    home = c.get("/review").text
    assert f'href="/review/peps/{world.pep_a}"' in home
    assert f'href="/review/peps/{world.pep_b}"' not in home


def test_the_wording_keeps_the_childs_words_and_its_history(
    world: World, answers: dict[str, int]
) -> None:
    c = logged_in(world.dt_a)
    answer_id = answers["going_well"]
    with db.session_scope() as session:
        said_at = session.get(Answer, answer_id).updated_at  # type: ignore[union-attr]
    url = f"/review/peps/{world.pep_a}/answers/{answer_id}/wording"
    _, csrf = _page(c, world.pep_a)
    first = c.post(url, data={"csrf": csrf, "wording": "Robin enjoys art <i>and</i> maths."})
    assert first.status_code == 303
    assert (
        first.headers["location"] == f"/review/peps/{world.pep_a}?done=wording#answer-{answer_id}"
    )
    assert c.post(url, data={"csrf": csrf, "wording": "Robin enjoys art."}).status_code == 303
    same = c.post(url, data={"csrf": csrf, "wording": "  Robin enjoys art.  "})
    assert same.headers["location"].startswith(f"/review/peps/{world.pep_a}?done=unchanged")

    with db.session_scope() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None
        assert answer.text == WORDS  # the child's words, never overwritten
        assert answer.teacher_wording == "Robin enjoys art."
        assert answer.updated_at == said_at  # the day the child said it does not move
        edits = session.scalars(
            select(AnswerWordingEdit).where(AnswerWordingEdit.answer_id == answer_id)
        ).all()
        assert [e.wording for e in edits] == [
            "Robin enjoys art <i>and</i> maths.",
            "Robin enjoys art.",
        ]
        assert {e.staff_id for e in edits} == {world.dt_a.ctx.staff_id}

    text, csrf = _page(c, world.pep_a)
    assert ">Robin enjoys art.</textarea>" in text
    assert "Robin enjoys art &lt;i&gt;and&lt;/i&gt; maths." in text  # in the history
    assert "Wording for \u201cWhat&#39;s been going well\u201d" in text
    assert len(_events("pep.wording_changed")) == 2
    for event in _events("pep.wording_changed"):
        assert "enjoys" not in json.dumps(event.detail)

    # Cleared: the history says so; the child's words still there.
    assert c.post(url, data={"csrf": csrf, "wording": ""}).status_code == 303
    text, _ = _page(c, world.pep_a)
    assert "wording removed" in text
    with db.session_scope() as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None and answer.teacher_wording is None and answer.text == WORDS

    # The export carries the wording beside the child's words.
    c.post(url, data={"csrf": csrf, "wording": "For the meeting: art."})
    exported = c.get(f"/review/peps/{world.pep_a}/export.json").json()
    (going_well,) = [a for a in exported["answers"] if a["question_key"] == "going_well"]
    assert going_well["text"] == WORDS and going_well["teacher_wording"] == "For the meeting: art."


def test_a_wording_for_another_peps_answer_is_not_found(
    world: World, answers: dict[str, int]
) -> None:
    c = logged_in(world.admin)  # sees every school: the answer must still be this PEP's
    _, csrf = _page(c, world.pep_a)
    for answer_id in (answers["other_school"], answers["answered_by"], 999_999):
        response = c.post(
            f"/review/peps/{world.pep_a}/answers/{answer_id}/wording",
            data={"csrf": csrf, "wording": "x"},
        )
        assert response.status_code == 404
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AnswerWordingEdit)) == 0


def test_a_wording_needs_the_forms_token(world: World, answers: dict[str, int]) -> None:
    c = logged_in(world.dt_a)
    url = f"/review/peps/{world.pep_a}/answers/{answers['feeling_now']}/wording"
    assert c.post(url, data={"wording": "x"}).status_code == 403
    assert c.post(url, data={"csrf": "forged", "wording": "x"}).status_code == 403


def test_comments(world: World, answers: dict[str, int]) -> None:
    c = logged_in(world.dt_a)
    _, csrf = _page(c, world.pep_a)
    url = f"/review/peps/{world.pep_a}/comments"
    empty = c.post(url, data={"csrf": csrf, "comment": "   "})
    assert empty.status_code == 400 and "Please write a comment first." in empty.text
    done = c.post(url, data={"csrf": csrf, "comment": "Talk about art <b>club</b>"})
    assert done.status_code == 303
    text, _ = _page(c, world.pep_a)
    assert "Talk about art &lt;b&gt;club&lt;/b&gt;" in text and world.dt_a.email in text
    assert "Added a comment" in text
    (event,) = _events("pep.commented")
    assert "club" not in json.dumps(event.detail)


def test_approve_only_after_the_child_sent_it(world: World, answers: dict[str, int]) -> None:
    c = logged_in(world.dt_a)
    text, csrf = _page(c, world.pep_a)
    assert "once the child has sent it to school" in text
    refused = c.post(f"/review/peps/{world.pep_a}/approve", data={"csrf": csrf})
    assert refused.status_code == 400 and NOT_SUBMITTED.replace("'", "&#39;") in refused.text
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None and pep.reviewed_at is None

    _submit(world.pep_a)
    text, csrf = _page(c, world.pep_a)
    assert "waiting for your review" in text
    approved = c.post(f"/review/peps/{world.pep_a}/approve", data={"csrf": csrf})
    assert approved.status_code == 303
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None
        assert pep.reviewed_at is not None and pep.reviewed_by == world.dt_a.ctx.staff_id
    text, _ = _page(c, world.pep_a)
    assert '<dd class="voice-status">Approved</dd>' in text
    assert "Approved the child&#39;s voice" in text
    assert len(_events("pep.approved")) == 1


def test_return_stores_the_question(world: World, answers: dict[str, int]) -> None:
    _submit(world.pep_a)
    c = logged_in(world.dsl_a)
    _, csrf = _page(c, world.pep_a)
    url = f"/review/peps/{world.pep_a}/return"
    assert c.post(url, data={"csrf": csrf, "question": ""}).status_code == 400
    question = "What would help you with <spelling>?"
    assert c.post(url, data={"csrf": csrf, "question": question}).status_code == 303
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None
        assert pep.returned_question == question
        assert pep.returned_at is not None and pep.returned_by == world.dsl_a.ctx.staff_id
    text, csrf = _page(c, world.pep_a)
    assert '<dd class="voice-status">Sent back with a question</dd>' in text
    assert "What would help you with &lt;spelling&gt;?" in text
    assert "Sent back to the child with a question" in text  # the history
    (event,) = _events("pep.returned")
    assert "spelling" not in json.dumps(event.detail)


def _posts(world: World, answers: dict[str, int], pep_id: int, answer_key: str) -> list[str]:
    return [
        f"/review/peps/{pep_id}/answers/{answers[answer_key]}/wording",
        f"/review/peps/{pep_id}/comments",
        f"/review/peps/{pep_id}/approve",
        f"/review/peps/{pep_id}/return",
    ]


FORM = {"wording": "w", "comment": "c", "question": "q"}


def test_the_virtual_school_reads_but_changes_nothing(
    world: World, answers: dict[str, int]
) -> None:
    _submit(world.pep_a)
    c = logged_in(world.vs)
    text, csrf = _page(c, world.pep_a)
    assert "&lt;script&gt;" in text and "Said by Robin" in text
    assert "Save wording" not in text and "Approve</button>" not in text
    for url in _posts(world, answers, world.pep_a, "feeling_now"):
        assert c.post(url, data={"csrf": csrf, **FORM}).status_code == 403, url
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AnswerWordingEdit)) == 0
        assert session.scalar(select(func.count()).select_from(PepComment)) == 0
        pep = session.get(Pep, world.pep_a)
        assert pep is not None and pep.reviewed_at is None and pep.returned_question is None
    assert c.get(f"/review/peps/{world.pep_a}/export.txt").status_code == 200


def test_another_schools_pep_is_not_found_on_every_route(
    world: World, answers: dict[str, int]
) -> None:
    _submit(world.pep_b)
    c = logged_in(world.dt_a)
    _, csrf = _page(c, world.pep_a)
    gets = [f"/review/peps/{world.pep_b}"] + [
        f"/review/peps/{world.pep_b}/export.{ext}" for ext in ("pdf", "docx", "txt", "json")
    ]
    for url in gets:
        response = c.get(url)
        assert response.status_code == 404, url
        assert SECRET_WORDS not in response.text
    for url in _posts(world, answers, world.pep_b, "other_school"):
        assert c.post(url, data={"csrf": csrf, **FORM}).status_code == 404, url
    assert c.get(f"/review/peps/{world.pep_a}/export.exe").status_code == 404
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_b)
        assert pep is not None and pep.reviewed_at is None and pep.returned_question is None
        assert session.scalar(select(func.count()).select_from(PepComment)) == 0
        assert session.scalar(select(func.count()).select_from(AnswerWordingEdit)) == 0
    refusals = _events("pep.not_found")
    assert len(refusals) == len(gets) + 4
    assert {e.pep_id for e in refusals} == {world.pep_b}
    assert not _events("pep.exported")


@pytest.mark.parametrize(
    ("ext", "media_type"),
    [
        ("pdf", "application/pdf"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("txt", "text/plain; charset=utf-8"),
        ("json", "application/json"),
    ],
)
def test_downloads(
    world: World, answers: dict[str, int], tmp_path: Path, ext: str, media_type: str
) -> None:
    c = logged_in(world.dt_a)
    response = c.get(f"/review/peps/{world.pep_a}/export.{ext}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"childs-voice-pep-{world.pep_a}-2030-01-15.{ext}" in disposition
    assert "Robin" not in disposition
    if ext == "pdf":
        path = tmp_path / "voice.pdf"
        path.write_bytes(response.content)
        words = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        assert "I like art [emoji] and" in words and "but not spelling" in words
        assert "<script>alert(1)</script><b>x</b>" in words
    elif ext == "txt":
        assert "<script>alert(1)</script><b>x</b>" in response.text
        assert "I like art \U0001f3a8 and" in response.text
    elif ext == "json":
        texts = [a["text"] for a in response.json()["answers"]]
        assert SCRIPT in texts and WORDS in texts
    (event,) = _events("pep.exported")
    assert event.pep_id == world.pep_a and event.actor == world.dt_a.ctx.actor
    fmt = {"txt": "text"}.get(ext, ext)
    assert event.detail["format"] == fmt and event.detail["answers"] == 3
    assert "art" not in json.dumps(event.detail)


def test_the_latest_decision_stands(world: World, answers: dict[str, int]) -> None:
    _submit(world.pep_a)
    c = logged_in(world.dt_a)
    _, csrf = _page(c, world.pep_a)
    base = f"/review/peps/{world.pep_a}"
    c.post(f"{base}/approve", data={"csrf": csrf})
    c.post(f"{base}/return", data={"csrf": csrf, "question": "Anything else about art?"})
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None and pep.reviewed_at is None and pep.reviewed_by is None
    c.post(f"{base}/approve", data={"csrf": csrf})
    with db.session_scope() as session:
        pep = session.get(Pep, world.pep_a)
        assert pep is not None and pep.reviewed_at is not None
        assert pep.returned_question is None and pep.returned_at is None
    text, _ = _page(c, world.pep_a)
    history = text.split('id="history-title"')[1]
    assert history.count("Approved the child&#39;s voice") == 2
    assert history.count("Sent back to the child with a question") == 1


def test_a_wording_too_long_is_refused(world: World, answers: dict[str, int]) -> None:
    c = logged_in(world.dt_a)
    _, csrf = _page(c, world.pep_a)
    url = f"/review/peps/{world.pep_a}/answers/{answers['feeling_now']}/wording"
    response = c.post(url, data={"csrf": csrf, "wording": "a" * 2001})
    assert response.status_code == 400 and "too long" in response.text
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AnswerWordingEdit)) == 0
