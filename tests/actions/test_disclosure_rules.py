"""The pure rules behind the conversation after a disclosure, and the reply to the check."""

from __future__ import annotations

import pytest

from bot.services.check_reply import yes_or_no
from bot.services.disclosure_flow import FlowState, Step, decide, fingerprint, state_from_slots

EMPTY = FlowState(None, 0, ())


def _steps(texts: list[tuple[str | None, str]]) -> list[Step]:
    state, steps = EMPTY, []
    for question, text in texts:
        decision = decide(state, question, text)
        steps.append(decision.step)
        state = decision.state
    return steps


def test_first_again_then_move_on_at_one_question() -> None:
    said = [("hard", "he hits me")] * 3
    assert _steps(said) == [Step.first, Step.again, Step.move_on]


def test_a_repeat_at_the_next_question_is_not_the_full_reply_again() -> None:
    said = [("hard", "he hits me"), ("hard", "he hits me"), ("hard", "he hits me"),
            ("friends", "he hits me!!"), ("friends", "he hits me")]  # fmt: skip
    assert _steps(said) == [Step.first, Step.again, Step.move_on, Step.again, Step.move_on]


def test_something_new_at_another_question_is_a_first_again() -> None:
    said = [("hard", "he hits me"), ("friends", "and nobody feeds us at the weekend")]
    assert _steps(said) == [Step.first, Step.first]


def test_outside_a_question_the_bot_never_moves_on() -> None:
    said = [(None, "he hits me")] * 5
    assert Step.move_on not in _steps(said)


def test_a_fingerprint_holds_no_words() -> None:
    print_ = fingerprint("my uncle Zebedee hits me")
    assert not any("zebedee" in h.lower() for h in print_)
    assert fingerprint("HE HITS MEEEE") == fingerprint("he hits mee")


def test_slots_in_odd_shapes_give_an_empty_state() -> None:
    assert state_from_slots(None, None, None) == EMPTY
    assert state_from_slots("hard", "x", [["a"], "b"]) == FlowState("hard", 0, (("a",),))


@pytest.mark.parametrize(
    ("reply", "meaning"),
    [
        ("no im safe", False), ("no nobody is hurting me", False), ("nah", False),
        ("Noooo", False), ("not really", False), ("👎", False),
        ("yes", True), ("yh he does", True), ("ok", True), ("👍", True), ("Yesss", True),
        ("what", None), ("", None), ("my mum", None), ("/affirm", None),
    ],
)  # fmt: skip
def test_a_reply_to_the_check_is_read_by_its_first_word(reply: str, meaning: bool | None) -> None:
    assert yes_or_no(reply) is meaning
