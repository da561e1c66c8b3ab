"""Free-form questions -> category + region roles, for bench templates, paraphrases and every reference style."""

import pytest

from rgpt_ros.geometry.regions import Region
from rgpt_ros.qa.questions import parse_question
from rgpt_ros.qa.references import ReferenceError

REGIONS = [Region("cup", box=(0, 0, 5, 5)), Region("bowl", box=(5, 5, 9, 9)), Region("plate", box=(1, 1, 4, 4))]

# (question with {A} {B}, category, expected roles as (A, B) letters)
CASES = [
    ("Is {A} to the left of {B}?", "left_predicate", "AB"),
    ("From the camera, does {A} appear on the left side of {B}?", "left_predicate", "AB"),
    ("Compared to {B}, is {A} on the left?", "left_predicate", "AB"),
    ("Is {A} on the right-hand side of {B}?", "right_predicate", "AB"),
    ("Is {A} located over {B}?", "above_predicate", "AB"),
    ("Is {A} higher than {B}?", "above_predicate", "AB"),
    ("Is {A} underneath {B}?", "below_predicate", "AB"),
    ("Is {A} farther from the camera than {B}?", "behind_predicate", "AB"),
    ("Is the position of {A} more distant than that of {B}?", "behind_predicate", "AB"),
    ("Is {A} nearer to me than {B}?", "front_predicate", "AB"),
    ("Is {A} positioned before {B}?", "front_predicate", "AB"),
    ("Does {A} have a greater height compared to {B}?", "tall_predicate", "AB"),
    ("Is {A} not as tall as {B}?", "short_predicate", "AB"),
    ("Does {A} have a lesser height compared to {B}?", "short_predicate", "AB"),
    ("Is {A} broader than {B}?", "wide_predicate", "AB"),
    ("Is {A} narrower than {B}?", "thin_predicate", "AB"),
    ("Does {A} take up more space than {B}?", "big_predicate", "AB"),
    ("Is {A} smaller in size than {B}?", "small_predicate", "AB"),
    ("Which is more to the left, {A} or {B}?", "left_choice", "AB"),
    ("Between {A} and {B}, which one is further right?", "right_choice", "AB"),
    ("Who is higher up, {A} or {B}?", "above_choice", "AB"),
    ("Between {A} and {B}, which one is positioned lower?", "below_choice", "AB"),
    ("Which of these two, {A} or {B}, stands taller?", "tall_choice", "AB"),
    ("Who is shorter, {A} or {B}?", "short_choice", "AB"),
    ("Which is closer to the camera, {A} or {B}?", "front_choice", "AB"),
    ("How far is {A} from {B}?", "distance_data", "AB"),
    ("How distant is {A} from {B}?", "distance_data", "AB"),
    ("Give me the distance from {A} to {B}.", "distance_data", "AB"),
    ("How far apart are {A} and {B} horizontally?", "horizontal_distance_data", "AB"),
    ("Horizontal gap between {A} and {B}.", "horizontal_distance_data", "AB"),
    ("What is the vertical distance between {A} and {B}?", "vertical_distance_data", "AB"),
    ("How much higher or lower is {A} than {B}?", "vertical_distance_data", "AB"),
    ("If you are at {A}, where will you find {B}?", "direction", "AB"),
    ("Where is {B} relative to {A}, as a clock direction?", "direction", "AB"),
    ("Standing at {A}, in which direction is {B}?", "direction", "AB"),
    ("From {A}, what o'clock is {B}?", "direction", "AB"),
    # paraphrases found in user questions: compared measurements, image edges, "on top", "space between"
    ("Is the height of {A} greater than that of {B}?", "tall_predicate", "AB"),
    ("Is the height of {A} smaller than that of {B}?", "short_predicate", "AB"),
    ("Is the height of {A} lower than that of {B}?", "short_predicate", "AB"),
    ("Compared to {B}, is the height of {A} greater?", "tall_predicate", "AB"),
    ("Is the width of {A} greater than that of {B}?", "wide_predicate", "AB"),
    ("Is the width of {A} smaller than that of {B}?", "thin_predicate", "AB"),
    ("Is the width of {A} less than that of {B}?", "thin_predicate", "AB"),
    ("Is the size of {A} larger than that of {B}?", "big_predicate", "AB"),
    ("Whose height is greater, {A} or {B}?", "tall_choice", "AB"),
    ("Which object is closer to the left edge of the view, {A} or {B}?", "left_choice", "AB"),
    ("Which object is closer to the right edge of the view, {A} or {B}?", "right_choice", "AB"),
    ("Is {A} nearer the left edge of the image than {B}?", "left_predicate", "AB"),
    ("Which one is on top, {A} or {B}?", "above_choice", "AB"),
    ("Which one is on the bottom, {A} or {B}?", "below_choice", "AB"),
    ("Which is closer to the top of the picture, {A} or {B}?", "above_choice", "AB"),
    ("Which is farther from the left edge, {A} or {B}?", "right_choice", "AB"),
    ("Is {A} further away from the right side of the image than {B}?", "left_predicate", "AB"),
    ("Which one is farthest from the top, {A} or {B}?", "below_choice", "AB"),
    ("Which is further from the bottom of the frame, {A} or {B}?", "above_choice", "AB"),
    ("Is {A} farther from the camera than {B}?", "behind_predicate", "AB"),
    ("How much space is there between {A} and {B}?", "distance_data", "AB"),
    ("How much room is there between {A} and {B}?", "distance_data", "AB"),
]
ONE_REGION = [
    ("How wide is {A}?", "width_data"), ("What is the radius of {A}?", "width_data"),
    ("How much space does {A} occupy horizontally?", "width_data"), ("Find out how tall {A} is.", "height_data"),
    ("Could you tell me the vericall size of {A}?", "height_data"), ("How high is {A}?", "height_data"),
]


@pytest.mark.parametrize("style", ["bench", "region", "id", "mask"])
@pytest.mark.parametrize("template, category, roles", CASES)
def test_two_region_questions_in_every_reference_style(template, category, roles, style):
    a, b = 2, 0  # plate and cup, so roles cannot be right by accident of list order
    names = {"bench": lambda k: f"Region [{k}]", "region": lambda k: f"<region{k}>",
             "id": lambda k: f"<{REGIONS[k].id}>", "mask": None}[style]
    if style == "mask":
        # the k-th <mask> is the k-th region: mention order = region order
        text = template.format(A="<mask>", B="<mask>")
        first_is_a = template.index("{A}") < template.index("{B}")
        expected = {"A": 0 if first_is_a else 1, "B": 1 if first_is_a else 0}
    else:
        text = template.format(A=names(a), B=names(b))
        expected = {"A": a, "B": b}
    parsed = parse_question(text, REGIONS)
    assert parsed is not None, text
    assert parsed.category == category
    if not category.endswith("_choice"):
        assert parsed.roles == tuple(expected[r] for r in roles), text
    else:
        assert sorted(parsed.roles) == sorted(expected.values())


@pytest.mark.parametrize("template, category", ONE_REGION)
def test_one_region_questions(template, category):
    parsed = parse_question(template.format(A="<bowl>"), REGIONS)
    assert parsed.category == category and parsed.roles == (1,)


@pytest.mark.parametrize("question", [
    "What color is <cup>?", "How many cups are there?", "Is <cup> to the left?", "Describe <cup> and <bowl>.",
    "How much taller is <cup> than <bowl>?", "How big is <cup>?", "Is <cup> far from <bowl>?",
    "How wide and tall is <cup>?", "What is <cup>?", "Is <cup> left of <cup>?", "Hello there",
])
def test_unanswerable_questions_return_none(question):
    assert parse_question(question, REGIONS) is None


@pytest.mark.parametrize("question, category", [
    ("Which is closer to the camera, <cup> or <bowl>?", "front_choice"),   # depth "closer" still means front
    ("Is <cup> nearer to me than <bowl>?", "front_predicate"),
    ("Between <cup> and <bowl>, which takes up more space?", "big_choice"),  # "space" without "space between"
    ("Is <cup> at a height higher than <bowl>?", "above_predicate"),       # elevation, not "the height of A"
    ("Is <cup>'s height greater than <bowl>'s?", "tall_predicate"),
    ("Is <cup> closer to the right than <bowl>?", "right_predicate"),
])
def test_new_cues_do_not_capture_neighbouring_phrasings(question, category):
    parsed = parse_question(question, REGIONS)
    assert parsed is not None and parsed.category == category, question
    if category.endswith("_predicate"):
        assert parsed.roles == (0, 1)


def test_three_candidates_choice():
    parsed = parse_question("Which is the leftmost: <cup>, <bowl> or <plate>?", REGIONS)
    assert parsed.category == "left_choice" and parsed.roles == (0, 1, 2)


def test_unknown_references_raise():
    with pytest.raises(ReferenceError, match="unknown region id <mug>"):
        parse_question("Is <mug> left of <cup>?", REGIONS)
    with pytest.raises(ReferenceError, match="more <mask> tokens"):
        parse_question("Is <mask> left of <mask> and <mask> and <mask>?", REGIONS)
