"""A typed "carry on" to the offer after a disclosure, and only that."""

import pytest

from bot.services.check_reply import carries_on


@pytest.mark.parametrize(
    "text",
    ["carry on", "Carry on!", "cary on plz", "ok carry on", "keep going", "continue",
     "yes carry on", "i want to carry on with the questions", "Carry on 👍"],
)  # fmt: skip
def test_carry_on(text: str) -> None:
    assert carries_on(text)


@pytest.mark.parametrize(
    "text",
    ["yes", "nothing", "go on then", "carry on he hit me again", "he carries on hitting me",
     "i cant carry on", "", "keep", "carry on carry on carry on carry on carry on"],
)  # fmt: skip
def test_not_carry_on(text: str) -> None:
    assert not carries_on(text)
