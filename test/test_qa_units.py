"""The shared answer parser: lengths with units (digits or words), clock hours, yes/no."""

import pytest

from rgpt_ros.qa.units import (UnitError, hour_difference, parse_clock, parse_length, parse_lengths, parse_yes_no,
                               to_metres, words_to_number)


@pytest.mark.parametrize("text, metres", [
    ("Region [0] is 1.20 meters away from Region [1].", 1.2),
    ("It is approximately 6.91 feet.", 6.91 * 0.3048),
    ("35cm", 0.35), ("150 mm", 0.15), ("2 m", 2.0), ("1.5-meter", 1.5), ("12 inches", 0.3048),
    ("3 in", 0.0762), ("2 ft", 0.6096), ("1 yard", 0.9144), ("1,200 mm", 1.2), ("0,5 m", 0.5),
    ("two feet", 0.6096), ("one and a half meters", 1.5), ("twenty-five centimeters", 0.25),
    ("a foot", 0.3048), ("half a meter", 0.5), ("three point five meters", 3.5),
    ("one hundred and twenty centimeters", 1.2), ("5 feet 6 inches", 5 * 0.3048 + 6 * 0.0254),
    ("Region [1] is 40 centimetres wide", 0.4), ("They are 2 metres apart.", 2.0),
])
def test_lengths(text, metres):
    assert parse_length(text) == pytest.approx(metres)


def test_no_length_and_several_lengths():
    assert parse_length("Region [0] is to the left of Region [1].") is None  # region numbers are not lengths
    assert parse_length("Region 3 is there") is None
    assert parse_lengths("between 1 m and 50 cm") == pytest.approx([1.0, 0.5])


def test_units():
    assert to_metres(3, "Feet") == pytest.approx(0.9144)
    with pytest.raises(UnitError, match="unknown length unit 'furlong'"):
        to_metres(1, "furlong")


def test_number_words():
    assert words_to_number("forty two") == 42 and words_to_number("seven") == 7
    assert words_to_number("two and a quarter") == 2.25 and words_to_number("banana") is None


@pytest.mark.parametrize("text, hour", [
    ("Region [1] is roughly at 10 o'clock from Region [0].", 10), ("around the ten o’clock direction", 10),
    ("at 3 o clock", 3), ("3:00", 3), ("twelve o'clock", 12), ("0 o'clock", 12), ("15 o'clock", 3),
    ("eleven o'clock", 11), ("to the left", None),
])
def test_clock(text, hour):
    assert parse_clock(text) == hour


@pytest.mark.parametrize("text, yes", [
    ("Yes, Region [0] is to the left of Region [1].", True), ("Indeed, it is.", True), ("Correct, yes", True),
    ("That is True.", True), ("Region [0] is further from the viewer.", True),
    ("No, it is not.", False), ("Incorrect, Region [0] is not above Region [1].", False), ("That is False.", False),
    ("In fact, Region [0] is to the right of Region [1].", False), ("Actually, Region [0] is below.", False),
    ("Region [0] isn't taller than Region [1].", False), ("", None),
    ("I cannot answer that: no depth", None), ("I'm not sure.", None),
])
def test_yes_no(text, yes):
    assert parse_yes_no(text) is yes


def test_hour_difference_is_circular():
    assert hour_difference(12, 1) == 1 and hour_difference(11, 1) == 2 and hour_difference(3, 9) == 6
