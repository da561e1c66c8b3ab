"""Deterministic scorer: yes/no, choice, +-25 % lengths, clock within an hour; summary table."""

import pytest

from rgpt_ros.qa.scoring import Score, format_table, parse_choice, score_answer, summarise


def test_predicates():
    assert score_answer("left_predicate", "Yes, it is.", "Indeed, Region [0] is to the left.").success is True
    assert score_answer("left_predicate", "No.", "Correct, you'll find Region [0] to the left.").success is False
    assert score_answer("behind_predicate", "That is False.", "In fact, Region [0] is in front.").success is True


def test_choices():
    assert parse_choice("Between Region [0] and Region [1], Region [1] is taller.") == "1"
    assert parse_choice("Positioned to the left is Region [1].") == "1"
    assert parse_choice("<region0> is higher") == "0" and parse_choice("nothing") is None
    assert score_answer("tall_choice", "Region [1] is taller.", "Standing taller between the two is Region [1].").success
    assert not score_answer("tall_choice", "Region [0] is taller.", "With more height is Region [1].").success


@pytest.mark.parametrize("pred, ok", [("1.24 meters", True), ("0.76 m", True), ("1.3 m", False), ("0.7 m", False),
                                      ("3.3 feet", True), ("100 cm", True), ("no idea", False)])
def test_lengths_within_25_percent(pred, ok):
    score = score_answer("distance_data", f"They are {pred} apart.", "Region [0] and Region [1] are 1 meter apart.")
    assert score.success is ok
    if score.pred is not None:
        assert score.abs_rel == pytest.approx(abs(score.pred - 1.0))


def test_numeric_value_is_used_when_given():
    score = score_answer("width_data", "garbled", "It is 50 cm.", pred_value=0.55, pred_unit="m")
    assert score.success and score.abs_rel == pytest.approx(0.1)


def test_unreadable_reference_is_not_scored():
    ref = "Region [0] and Region [1] overlap, so it's hard to tell how far apart they are vertically."
    assert score_answer("vertical_distance_data", "1 m", ref).success is None


@pytest.mark.parametrize("pred, ok", [("12 o'clock", True), ("1 o'clock", True), ("10 o'clock", False),
                                      ("eleven o'clock", True), ("to the left", False)])
def test_clock_within_one_hour(pred, ok):
    assert score_answer("direction", pred, "Region [1] is roughly at 12 o'clock from Region [0].").success is ok
    assert score_answer("direction", "x", "at 2 o'clock", pred_value=3.0, pred_unit="oclock").hour_error == 1


def test_summary_table():
    scores = [Score("left_predicate", True), Score("left_predicate", False), Score("width_data", True, abs_rel=0.1),
              Score("width_data", None, skipped=True), Score("direction", True, hour_error=1)]
    rows = {r.name: r for r in summarise(scores)}
    assert rows["left_predicate"].success == 50.0 and rows["width_data"].skipped == 1
    assert rows["width_data"].scored == 1 and rows["width_data"].abs_rel == pytest.approx(0.1)
    assert rows["[qualitative]"].success == 50.0 and rows["[quantitative]"].success == 100.0
    assert rows["[all]"].success == pytest.approx(250 / 3)  # mean of the per-category rates
    table = format_table(summarise(scores))
    assert "left_predicate" in table and "success%" in table and "[all]" in table and "right_choice" not in table
