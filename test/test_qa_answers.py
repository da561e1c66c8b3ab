"""Answer text: bench style, deterministic wording, human units, readable back by the shared parser."""

import pytest

from rgpt_ros.qa.answers import answer_text, bench_names, format_length, refusal_text
from rgpt_ros.qa.categories import BENCH_CATEGORIES, CATEGORIES, QUALITATIVE, QUANTITATIVE, UnknownCategoryError
from rgpt_ros.qa.scoring import parse_choice
from rgpt_ros.qa.units import parse_clock, parse_length, parse_yes_no


def test_categories_match_the_bench():
    assert len(BENCH_CATEGORIES) == 24 and len(QUALITATIVE) == 18 and len(QUANTITATIVE) == 6
    assert {"left_predicate", "tall_choice", "distance_data", "direction"} <= set(BENCH_CATEGORIES)
    assert not CATEGORIES["big_choice"].in_bench and CATEGORIES["width_data"].regions == 1


@pytest.mark.parametrize("metres, unit_words", [(0.35, ("centimeters", "inches")), (1.2, ("meters", "feet")),
                                                (2.99, ("meters", "feet")), (4.5, ("meters",))])
def test_units_follow_the_reference_ranges(metres, unit_words):
    for key in ("a", "b", "c", "d", "e", "f"):
        text = format_length(metres, key)
        assert text.split()[-1] in unit_words
        assert parse_length(text) == pytest.approx(metres, rel=0.005)


@pytest.mark.parametrize("category", BENCH_CATEGORIES)
def test_every_category_reads_back(category):
    kind = CATEGORIES[category].answer
    names = bench_names(2)
    for key in ("q1", "q2", "q3", "q4"):
        if kind == "predicate":
            for yes in (True, False):
                assert parse_yes_no(answer_text(category, names, yes=yes, key=key)) is yes
        elif kind == "choice":
            for k in (0, 1):
                assert parse_choice(answer_text(category, names, choice=k, key=key)) == str(k)
        elif kind == "clock":
            assert parse_clock(answer_text(category, names, hour=7, key=key)) == 7
        else:
            text = answer_text(category, names, value=1.37, key=key)
            assert text.startswith(("Region [0]", "The ")) and parse_length(text) == pytest.approx(1.37, rel=0.005)


def test_wording_is_deterministic_and_varied():
    a = [answer_text("distance_data", ["A", "B"], value=1.2, key=f"k{i}") for i in range(20)]
    assert a == [answer_text("distance_data", ["A", "B"], value=1.2, key=f"k{i}") for i in range(20)]
    assert len(set(a)) >= 3
    assert answer_text("left_predicate", ["Region [0]", "Region [1]"], yes=True, key="x").endswith(
        "Region [0] is to the left of Region [1].")


def test_missing_inputs_are_errors():
    with pytest.raises(ValueError, match="needs yes"):
        answer_text("left_predicate", ["a", "b"])
    with pytest.raises(ValueError, match="choice in 0..1"):
        answer_text("left_choice", ["a", "b"], choice=2)
    with pytest.raises(ValueError, match="hour in 1..12"):
        answer_text("direction", ["a", "b"], hour=13)
    with pytest.raises(ValueError, match="value in metres"):
        answer_text("width_data", ["a"])
    with pytest.raises(UnknownCategoryError, match="unknown category 'colour'"):
        answer_text("colour", ["a"])
    assert refusal_text("no depth").startswith("I cannot answer")
