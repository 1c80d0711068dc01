"""A disclosure the classifier thinks likely enough is read as one, even if not its top."""

from __future__ import annotations

from pep_nlp.disclosure_policy import DISCLOSURE_AT, DISCLOSURE_INTENT, disclosure_first


def test_a_likely_disclosure_goes_first_and_nothing_is_lost() -> None:
    ranking = [("inform", 0.55), (DISCLOSURE_INTENT, DISCLOSURE_AT), ("help", 0.2)]
    assert disclosure_first(ranking) == [
        (DISCLOSURE_INTENT, DISCLOSURE_AT),
        ("inform", 0.55),
        ("help", 0.2),
    ]


def test_an_unlikely_disclosure_leaves_the_ranking_as_it_was() -> None:
    ranking = [("inform", 0.8), (DISCLOSURE_INTENT, DISCLOSURE_AT - 0.01), ("help", 0.19)]
    assert disclosure_first(ranking) == ranking
    assert disclosure_first([(DISCLOSURE_INTENT, 0.9), ("inform", 0.1)])[0][0] == DISCLOSURE_INTENT
    assert disclosure_first([("greet", 1.0)]) == [("greet", 1.0)]
