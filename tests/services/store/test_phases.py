import pytest

from bot.phases import Phase, parse_year_group, phase_for_year, year_group_label


@pytest.mark.parametrize(
    ("year", "phase"),
    [
        (-1, Phase.early_years),
        (0, Phase.early_years),
        (1, Phase.ks1_2),
        (6, Phase.ks1_2),
        (7, Phase.ks3_4),
        (11, Phase.ks3_4),
        (12, Phase.post_16),
        (13, Phase.post_16),
    ],
)
def test_phase_boundaries(year: int, phase: Phase) -> None:
    assert phase_for_year(year) is phase


@pytest.mark.parametrize("year", [-2, 14, 99])
def test_phase_outside_range(year: int) -> None:
    with pytest.raises(ValueError):
        phase_for_year(year)


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("N", -1),
        ("n", -1),
        ("R", 0),
        ("r", 0),
        ("5", 5),
        ("Y5", 5),
        ("y5", 5),
        ("Year 5", 5),
        ("year 13", 13),
        (" Y 7 ", 7),
        ("Nursery", -1),
        ("Reception", 0),
    ],
)
def test_parse_year_group(text: str, year: int) -> None:
    assert parse_year_group(text) == year


@pytest.mark.parametrize("text", ["", "Y14", "14", "five", "Year", "-1", "Y5b", "S5"])
def test_parse_year_group_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_year_group(text)


def test_labels() -> None:
    assert [year_group_label(y) for y in (-1, 0, 5, 13)] == ["N", "R", "Y5", "Y13"]
