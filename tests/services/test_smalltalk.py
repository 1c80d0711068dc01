import pytest

from bot.services.smalltalk import is_only_farewell, is_only_greeting


@pytest.mark.parametrize("text", ["hi", "Hiya!", "hello again", "hey 👋", "good morning"])
def test_greetings(text: str) -> None:
    assert is_only_greeting(text)


@pytest.mark.parametrize("text", ["bye", "Bye for now!", "see ya later", "gtg"])
def test_farewells(text: str) -> None:
    assert is_only_farewell(text)


@pytest.mark.parametrize(
    "text", ["Sam", "hi i like art", "saying bye to me", "hello kitty club", "byes in football"]
)
def test_answers_are_neither(text: str) -> None:
    assert not is_only_greeting(text)
    assert not is_only_farewell(text)
