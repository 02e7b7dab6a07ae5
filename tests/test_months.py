"""Months as plants write them: one parser for the API, the form and the import."""

from __future__ import annotations

import pytest

from marketplace.flows.errors import MonthRangeIncomplete, UnknownMonth
from marketplace.flows.months import months_of, parse_months


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("1-12", list(range(1, 13))),
        ("10-3", [1, 2, 3, 10, 11, 12]),  # across the new year
        ("1-5,10-12", [1, 2, 3, 4, 5, 10, 11, 12]),
        ("10;11;12", [10, 11, 12]),
        ("10;11;12;1;2;3", [1, 2, 3, 10, 11, 12]),
        (" 10 ; 11 ;12 ", [10, 11, 12]),
        ("10 - 3", [1, 2, 3, 10, 11, 12]),
        ("10 – 3", [1, 2, 3, 10, 11, 12]),  # an en dash
        ("01-03", [1, 2, 3]),
        ("12-12", [12]),
        ("7", [7]),
        ("janvier", [1]),
        ("janv.", [1]),
        ("févr", [2]),
        ("fevrier", [2]),
        ("FÉVRIER", [2]),
        ("October", [10]),
        ("oct", [10]),
        ("Sept", [9]),
        ("sept.", [9]),
        ("août", [8]),
        ("aout", [8]),
        ("Aug", [8]),
        ("déc.", [12]),
        ("mai", [5]),
        ("May", [5]),
        ("juin", [6]),
        ("juil.", [7]),
        ("mar", [3]),
        ("mars-mai", [3, 4, 5]),
        ("nov-feb", [1, 2, 11, 12]),
        ("JANV.-MARS", [1, 2, 3]),
        ("Oct.-Mar.", [1, 2, 3, 10, 11, 12]),
        ("octobre à mars", [1, 2, 3, 10, 11, 12]),
        ("October to March", [1, 2, 3, 10, 11, 12]),
        ("juin et juillet", [6, 7]),
        ("June and July", [6, 7]),
        ("janv.-mars, 7, sept-11", [1, 2, 3, 7, 9, 10, 11]),  # mixed
        ("5/6/7", [5, 6, 7]),
        ("1-3;2-4", [1, 2, 3, 4]),  # overlapping parts
        ("", []),
        ("  ", []),
    ],
)
def test_months_as_plants_write_them(text: str, months: list[int]) -> None:
    assert months_of(parse_months(text)) == months


@pytest.mark.parametrize(
    ("text", "part", "position"),
    [
        ("juinet", "juinet", 1),
        ("oct;juinet", "juinet", 2),
        ("oct-juinet", "juinet", 1),  # the wrong end of a range
        ("13", "13", 1),
        ("0", "0", 1),
        ("10;11;1247", "1247", 3),
        ("octobreX", "octobreX", 1),
        ("jui", "jui", 1),  # June or July: refused rather than guessed
        ("ju", "ju", 1),
        ("²", "²", 1),  # a digit of another script is not a month number
        ("١٢", "١٢", 1),
        ("2024", "2024", 1),
    ],
)
def test_a_part_that_is_not_a_month_is_named(text: str, part: str, position: int) -> None:
    with pytest.raises(UnknownMonth) as refused:
        parse_months(text)
    assert refused.value.field == "months"
    assert refused.value.params == {"part": part, "position": position}
    assert f"« {part} » is not a month" in refused.value.detail


@pytest.mark.parametrize(
    ("text", "part"), [("10-", "10-"), ("-3", "-3"), ("1-2-3", "1-2-3"), ("oct -", "oct-")]
)
def test_a_range_needs_its_two_ends(text: str, part: str) -> None:
    with pytest.raises(MonthRangeIncomplete) as refused:
        parse_months(text)
    assert refused.value.params["part"] == part and refused.value.field == "months"
