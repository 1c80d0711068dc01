"""Every category fires on several phrasings: plain, misspelt, text speak, third person,
indirect and emoji in context. Written after the lexicon, separately from the benchmark set,
so they also check that the lexicon generalises."""

from __future__ import annotations

import pytest

from pep_nlp.safeguarding import CATEGORIES, SafeguardingScreen

DISCLOSURES: dict[str, list[str]] = {
    "suicide_self_harm": [
        "i want to end my life",
        "kms",
        "honestly kms lol everything is crap",
        "im gonna unalive myself",
        "i keep cuttin myself",
        "i wanna die",
        "I feel suicidal",
        "i think every1 would be better off without me",
        "i hurt myself on purpose",
    ],
    "sexual_abuse": [
        "I'm being forced to have sex and I'm only 12 years old",
        "my foster brother touches me at night",
        "he tuched me in my privates",
        "my uncle makes me do things i dont like, sex things",
        "a man at the park showed me his privates",
        "she told me to take my clothes off",
    ],
    "physical_abuse": [
        "my stepdad punches me",
        "he 👊 me",
        "she 👊🏽 me every day",
        "my dad hits my brother wiv a belt",
        "mum burnt me with a cigarette",
        "he chucked me against the wall",
        "my carer smacked me round the face",
    ],
    "exploitation_grooming": [
        "i have to keep secrets with him",
        "my older cousin makes me carry weed and money for him",
        "a guy from roblox asked me for pics",
        "someone on tiktok wants to meet me and said dont tell ur mum",
        "this man gives me vapes and money and says i owe him",
        "they send me out of town with a bag",
    ],
    "fgm_forced_marriage": [
        "my parents want me to marry a man from back home",
        "im going to be cut when we go on holiday",
        "they want to take me abroad for the cutting",
        "my dad says im getting married next year, im 14",
    ],
    "radicalisation": [
        "someone on discord says i should join them and fight",
        "my mate is getting into extremist stuff and wants me to join",
        "they said all immigrants should be killed",
        "a man online is showing me how to make a bomb",
    ],
    "neglect": [
        "nobody feeds me",
        "theres no food at home agen",
        "i go to bed starving every night",
        "i get left home alone for days",
        "no one washes my uniform",
    ],
    "emotional_abuse": [
        "my dad says im worthless",
        "she tells me she wishes i was never born",
        "my carer calls me a waste of space",
        "they scream at me for everything",
    ],
    "bullying_violence": [
        "the kids in my class keep punching me",
        "some1 said kys",
        "they said theyll stab me 🔪",
        "a boy brought a knife to school and showed me",
        "they keep bullying me on snapchat",
    ],
    "running_away_homelessness": [
        "im gonna run away tonight",
        "i ran away from my placement",
        "i slept on the street",
        "i dont want to go back to my placement",
        "ive got nowhere to stay",
    ],
    "eating_disorder": [
        "I make myself sick after I eat so I don't get fat",
        "i stopped eating cos im fat",
        "i throw up after dinner so i dont put on weight",
        "i starve myself",
    ],
    "substance_misuse": [
        "my older cousin makes me carry weed and money for him",
        "i smoke weed",
        "my mum is drunk every night",
        "i took ket at a party",
        "my dad takes drugs",
    ],
    "unsafe_home_placement": [
        "I'm scared to go home",
        "im scaredd to go home",
        "im scard to go home",
        "i dont feel safe at home",
        "i dont want to go back to my placement",
        "my step dad hits my sister",
        "the police keep coming to our house",
    ],
}

CASES = [(c, text) for c, texts in DISCLOSURES.items() for text in texts]


def test_every_category_has_cases() -> None:
    assert set(DISCLOSURES) == set(CATEGORIES)


@pytest.mark.parametrize(("category", "text"), CASES)
def test_disclosure_is_flagged(screen: SafeguardingScreen, category: str, text: str) -> None:
    finding = screen.check(text)
    assert finding is not None, f"missed a {category} disclosure"
    assert finding.category in CATEGORIES


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I'm being forced to have sex and I'm only 12 years old", "sexual_abuse"),
        ("I make myself sick after I eat so I don't get fat", "eating_disorder"),
        ("i keep hurting myself", "suicide_self_harm"),
        ("nobody feeds me", "neglect"),
    ],
)
def test_category_of_clear_disclosures(
    screen: SafeguardingScreen, text: str, category: str
) -> None:
    finding = screen.check(text)
    assert finding is not None
    assert finding.category == category


def test_drug_carrying_is_exploitation(screen: SafeguardingScreen) -> None:
    # Carrying for someone else is county-lines exploitation first, drugs second.
    finding = screen.check("my older cousin makes me carry weed and money for him")
    assert finding is not None
    assert finding.category == "exploitation_grooming"


def test_capitals_and_stretched_letters(screen: SafeguardingScreen) -> None:
    assert screen.check("HE HITS ME") is not None
    assert screen.check("he hurtsss meee") is not None
    assert screen.check("i wanna dieeee") is not None


def test_a_doubled_letter_guess_that_lands_on_a_known_misspelling(
    screen: SafeguardingScreen,
) -> None:
    # "bullyed" minus a doubled "l" is "bulyed", itself a listed misspelling of "bullied".
    finding = screen.check("i got bullyed on the bus again")
    assert finding is not None
    assert finding.category == "bullying_violence"
