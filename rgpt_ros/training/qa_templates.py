"""Question paraphrases per bench category, with role slots ``{A}`` (subject / origin) and ``{B}`` (object / target).

Every template is written so that ``rgpt_ros.qa.questions.parse_question`` maps it back to its category
and roles (checked by the tests). Regions are named ``Region [k]`` by order of first mention, the
convention the model answers in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rgpt_ros.qa.categories import BENCH_CATEGORIES

QUESTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "left_predicate": (
        "Is {A} to the left of {B}?", "Is {A} on the left side of {B}?", "Does {A} appear to the left of {B}?",
        "Can you confirm if {A} is positioned to the left of {B}?", "Would you say {A} is to the left of {B}?",
        "From the camera's point of view, is {A} left of {B}?", "Compared to {B}, is {A} further to the left?",
        "Relative to {B}, is {A} on the left?", "Is {A} located more to the left than {B}?",
        "Looking at the scene, does {A} sit to the left of {B}?"),
    "right_predicate": (
        "Is {A} to the right of {B}?", "Is {A} on the right side of {B}?", "Does {A} appear to the right of {B}?",
        "Can you confirm if {A} is positioned to the right of {B}?", "Would you say {A} is to the right of {B}?",
        "From the camera's point of view, is {A} right of {B}?", "Compared to {B}, is {A} further to the right?",
        "Relative to {B}, is {A} on the right?", "Is {A} located more to the right than {B}?",
        "Is {A} on the right-hand side of {B}?"),
    "above_predicate": (
        "Is {A} above {B}?", "Is {A} higher than {B}?", "Does {A} sit higher up than {B}?",
        "Is {A} positioned above {B}?", "Can you confirm that {A} is located above {B}?",
        "Compared to {B}, is {A} higher?", "Would you say {A} is above {B}?", "Is {A} at a higher level than {B}?",
        "Relative to {B}, is {A} placed higher?", "Does {A} appear above {B} in the scene?"),
    "below_predicate": (
        "Is {A} below {B}?", "Is {A} lower than {B}?", "Does {A} sit lower down than {B}?",
        "Is {A} positioned below {B}?", "Can you confirm that {A} is located beneath {B}?",
        "Compared to {B}, is {A} lower?", "Would you say {A} is below {B}?", "Is {A} at a lower level than {B}?",
        "Relative to {B}, is {A} placed lower?", "Does {A} appear underneath {B} in the scene?"),
    "behind_predicate": (
        "Is {A} behind {B}?", "Is {A} further from the camera than {B}?", "Is {A} farther away than {B}?",
        "Is the position of {A} more distant than that of {B}?", "Does {A} lie behind {B}?",
        "Compared to {B}, is {A} further back?", "Would you say {A} is behind {B}?",
        "Is {A} more distant from the viewer than {B}?", "Relative to {B}, is {A} located behind it?",
        "Does {A} stand behind {B} from the viewer's perspective?"),
    "front_predicate": (
        "Is {A} in front of {B}?", "Is {A} closer to the camera than {B}?", "Is {A} nearer to the viewer than {B}?",
        "Does {A} lie in front of {B}?", "Compared to {B}, is {A} closer to the camera?",
        "Would you say {A} is in front of {B}?", "Is {A} less distant from the viewer than {B}?",
        "Relative to {B}, is {A} located in front?", "Does {A} stand in front of {B} from the viewer's perspective?",
        "Is {A} positioned nearer the camera than {B}?"),
    "tall_predicate": (
        "Is {A} taller than {B}?", "Does {A} have a greater height than {B}?", "Compared to {B}, is {A} taller?",
        "Would you say {A} is taller than {B}?", "Is {A} the taller one when compared with {B}?",
        "Does {A} stand taller than {B}?", "Is {A} of greater height than {B}?",
        "Relative to {B}, is {A} taller?", "Can you confirm that {A} is taller than {B}?",
        "Does {A} have more height than {B}?"),
    "short_predicate": (
        "Is {A} shorter than {B}?", "Does {A} have a lesser height than {B}?", "Compared to {B}, is {A} shorter?",
        "Would you say {A} is shorter than {B}?", "Is {A} not as tall as {B}?", "Is {A} the shorter one next to {B}?",
        "Does {A} stand shorter than {B}?", "Relative to {B}, is {A} shorter?",
        "Can you confirm that {A} is shorter than {B}?", "Does {A} have less height than {B}?"),
    "wide_predicate": (
        "Is {A} wider than {B}?", "Does {A} have a greater width than {B}?", "Is {A} broader than {B}?",
        "Compared to {B}, is {A} wider?", "Would you say {A} is wider than {B}?",
        "Is {A} of greater width than {B}?", "Relative to {B}, is {A} wider?",
        "Can you confirm that {A} is wider than {B}?", "Does {A} have more width than {B}?",
        "Is {A} the wider one when compared with {B}?"),
    "thin_predicate": (
        "Is {A} thinner than {B}?", "Is {A} narrower than {B}?", "Does {A} have a lesser width than {B}?",
        "Compared to {B}, is {A} thinner?", "Would you say {A} is narrower than {B}?",
        "Relative to {B}, is {A} thinner?", "Can you confirm that {A} is thinner than {B}?",
        "Does {A} have less width than {B}?", "Is {A} the thinner one when compared with {B}?",
        "Does {A} look narrower than {B}?"),
    "big_predicate": (
        "Is {A} bigger than {B}?", "Is {A} larger than {B}?", "Does {A} take up more space than {B}?",
        "Compared to {B}, is {A} bigger?", "Would you say {A} is larger than {B}?",
        "Relative to {B}, is {A} bigger?", "Can you confirm that {A} is bigger than {B}?",
        "Does {A} have a greater size than {B}?", "Is {A} the larger one when compared with {B}?",
        "Does {A} look bigger than {B}?"),
    "small_predicate": (
        "Is {A} smaller than {B}?", "Does {A} have a smaller size than {B}?", "Does {A} take up less space than {B}?",
        "Compared to {B}, is {A} smaller?", "Would you say {A} is smaller than {B}?",
        "Relative to {B}, is {A} smaller?", "Can you confirm that {A} is smaller than {B}?",
        "Is {A} smaller in size than {B}?", "Is {A} the smaller one when compared with {B}?",
        "Does {A} look smaller than {B}?"),
    "left_choice": (
        "Which is more to the left, {A} or {B}?", "Between {A} and {B}, which one is on the left?",
        "Who is positioned more to the left, {A} or {B}?", "Which of {A} and {B} appears further left?",
        "Which one is on the left side, {A} or {B}?", "Of {A} and {B}, which is located more to the left?",
        "Which appears more to the left in the image, {A} or {B}?",
        "Tell me which is further left: {A} or {B}?", "Which region sits to the left, {A} or {B}?",
        "Between {A} and {B}, which is the leftmost?"),
    "right_choice": (
        "Which is more to the right, {A} or {B}?", "Between {A} and {B}, which one is on the right?",
        "Who is positioned more to the right, {A} or {B}?", "Which of {A} and {B} appears further right?",
        "Which one is on the right side, {A} or {B}?", "Of {A} and {B}, which is located more to the right?",
        "Tell me which is further right: {A} or {B}?", "Which region sits to the right, {A} or {B}?",
        "Between {A} and {B}, which is the rightmost?", "Which of these two is on the right, {A} or {B}?"),
    "above_choice": (
        "Which is above, {A} or {B}?", "Between {A} and {B}, which one is positioned higher?",
        "Who is higher up, {A} or {B}?", "Which of {A} and {B} sits higher?",
        "Which one is on top of the other, {A} or {B}?",
        "Of {A} and {B}, which is located higher?", "Which region is higher, {A} or {B}?",
        "Tell me which is higher up: {A} or {B}?", "Between {A} and {B}, which is the highest?",
        "Which of these two is above the other, {A} or {B}?"),
    "below_choice": (
        "Which is below, {A} or {B}?", "Between {A} and {B}, which one is positioned lower?",
        "Who is lower down, {A} or {B}?", "Which of {A} and {B} sits lower?", "Which one is underneath, {A} or {B}?",
        "Of {A} and {B}, which is located lower?", "Which region is lower, {A} or {B}?",
        "Tell me which is lower down: {A} or {B}?", "Between {A} and {B}, which is the lowest?",
        "Which of these two is below the other, {A} or {B}?"),
    "tall_choice": (
        "Who is taller, {A} or {B}?", "Between {A} and {B}, which one has more height?",
        "Which of these two, {A} or {B}, stands taller?", "Which is taller, {A} or {B}?",
        "Of {A} and {B}, which is the tallest?", "Which one has the greater height, {A} or {B}?",
        "Tell me which is taller: {A} or {B}?", "Which region is taller, {A} or {B}?",
        "Between {A} and {B}, which stands taller?", "Which of {A} and {B} is taller?"),
    "short_choice": (
        "Who is shorter, {A} or {B}?", "Between {A} and {B}, which one has less height?",
        "Which of these two, {A} or {B}, is shorter?", "Which is shorter, {A} or {B}?",
        "Of {A} and {B}, which is not as tall?", "Which one has the lesser height, {A} or {B}?",
        "Tell me which is shorter: {A} or {B}?", "Which region is shorter, {A} or {B}?",
        "Between {A} and {B}, which stands shorter?", "Which of {A} and {B} is shorter?"),
    "distance_data": (
        "What is the distance between {A} and {B}?", "How far apart are {A} and {B}?", "How far is {A} from {B}?",
        "Can you measure the distance between {A} and {B}?", "Tell me the distance from {A} to {B}.",
        "How close is {A} to {B}?", "What is the gap between {A} and {B}?",
        "How much separation is there between {A} and {B}?", "Give me the distance separating {A} and {B}.",
        "Estimate how far {A} is from {B}."),
    "horizontal_distance_data": (
        "What is the horizontal distance between {A} and {B}?", "How far apart are {A} and {B} horizontally?",
        "Horizontally, how far is {A} from {B}?", "Measure the lateral distance between {A} and {B}.",
        "What is the horizontal gap between {A} and {B}?", "How far apart are {A} and {B} from side to side?",
        "Tell me the horizontal distance from {A} to {B}.", "Estimate the sideways distance between {A} and {B}.",
        "Can you give me the horizontal separation of {A} and {B}?",
        "How far is {A} from {B} measured horizontally?"),
    "vertical_distance_data": (
        "What is the vertical distance between {A} and {B}?", "How far apart are {A} and {B} vertically?",
        "How much higher or lower is {A} than {B}?", "What is the height difference between {A} and {B}?",
        "Vertically, how far is {A} from {B}?", "Measure the vertical gap between {A} and {B}.",
        "What is the difference in elevation between {A} and {B}?", "Tell me the vertical distance from {A} to {B}.",
        "Can you give me the vertical separation of {A} and {B}?", "How far is {A} from {B} measured vertically?"),
    "width_data": (
        "How wide is {A}?", "What is the width of {A}?", "Measure the width of {A}.", "How broad is {A}?",
        "Could you tell me the horizontal size of {A}?", "What is the horizontal extent of {A}?",
        "How much space does {A} occupy horizontally?", "Give me the breadth of {A}.",
        "Tell me how wide {A} is.", "Estimate the width of {A}."),
    "height_data": (
        "How tall is {A}?", "What is the height of {A}?", "Measure the height of {A}.", "How high is {A}?",
        "Could you tell me the vertical size of {A}?", "What is the vertical extent of {A}?",
        "How much space does {A} occupy vertically?", "Tell me how tall {A} is.", "Estimate the height of {A}.",
        "Give me the height of {A}."),
    "direction": (
        "If you are at {A}, where will you find {B}?", "Standing at {A}, in which clock direction is {B}?",
        "Where is {B} relative to {A}?", "At what o'clock is {B} from {A}?",
        "From {A}, which way is {B}, as a clock direction?", "Looking from {A}, what clock direction points to {B}?",
        "If I stand at {A}, where would {B} be?", "In which direction is {B} with respect to {A}?",
        "Where can you find {B} from {A}, in clock terms?", "Which way should I look from {A} to see {B}?"),
}

ROLES = ("A", "B")
_SLOT = re.compile(r"\{([AB])\}")


class TemplateError(ValueError):
    """A template without the slots its category needs."""


@dataclass(frozen=True)
class RenderedQuestion:
    """A question naming regions ``Region [k]`` by order of first mention.

    text:  the question ("Is Region [0] left of Region [1]?").
    order: role index (0 = A, 1 = B) of the k-th mentioned region.
    """

    text: str
    order: tuple[int, ...]


def mention_order(template: str) -> tuple[int, ...]:
    """Role indices in order of first appearance in ``template`` (``{B}`` first -> (1, 0))."""
    seen: list[int] = []
    for match in _SLOT.finditer(template):
        role = ROLES.index(match.group(1))
        if role not in seen:
            seen.append(role)
    return tuple(seen)


def render_question(template: str) -> RenderedQuestion:
    """Fill ``{A}``/``{B}`` with ``Region [k]``, k = order of first mention."""
    order = mention_order(template)
    if not order:
        raise TemplateError(f"template {template!r} names no region ({{A}} / {{B}})")
    names = {ROLES[role]: f"Region [{k}]" for k, role in enumerate(order)}
    return RenderedQuestion(_SLOT.sub(lambda m: names[m.group(1)], template), order)


def role_names(order: tuple[int, ...]) -> list[str]:
    """``Region [k]`` names listed in role order (A first) for a question with mention ``order``."""
    by_role = {role: f"Region [{k}]" for k, role in enumerate(order)}
    return [by_role[role] for role in sorted(by_role)]


def templates_for(category: str) -> tuple[str, ...]:
    try:
        return QUESTION_TEMPLATES[category]
    except KeyError:
        raise TemplateError(f"no question templates for category {category!r}; known: {sorted(QUESTION_TEMPLATES)}") \
            from None


assert set(QUESTION_TEMPLATES) == set(BENCH_CATEGORIES), "templates must cover exactly the 24 bench categories"
