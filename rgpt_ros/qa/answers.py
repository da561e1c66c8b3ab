"""Bench-style answer text with varied but deterministic wording and human units.

The numeric value an engine returns is always metres; only the text uses cm/inches under 1 m,
metres/feet from 1 to 3 m and metres above, like the reference training answers.
"""

from __future__ import annotations

import zlib
from typing import Optional, Sequence

from rgpt_ros.qa.categories import get_category

_PREDICATE_PHRASE = {
    "left": "to the left of", "right": "to the right of", "above": "above", "below": "below",
    "behind": "behind", "front": "in front of", "tall": "taller than", "short": "shorter than",
    "wide": "wider than", "thin": "thinner than", "big": "bigger than", "small": "smaller than",
}
_CHOICE_PHRASE = {
    "left": "more to the left", "right": "more to the right", "above": "higher up", "below": "lower down",
    "behind": "further from the viewer", "front": "closer to the viewer", "tall": "taller", "short": "shorter",
    "wide": "wider", "thin": "thinner", "big": "bigger", "small": "smaller",
}
_YES = ("Yes, {a} is {p} {b}.", "Indeed, {a} is {p} {b}.", "Correct, {a} is {p} {b}.")
_NO = ("No, {a} is not {p} {b}.", "Incorrect, {a} is not {p} {b}.", "No, {a} is not {p} {b} from the viewer's perspective.")
_CHOICE = ("{x} is {p}.", "Of the two, {x} is {p}.", "{x} is the one that is {p}.")
_LENGTH = {
    "distance": ("{a} is {v} away from {b}.", "{a} and {b} are {v} apart.", "The distance between {a} and {b} is {v}."),
    "horizontal_distance": ("{a} and {b} are {v} apart horizontally.", "The horizontal distance between {a} and {b} is {v}.",
                            "{a} is {v} away from {b} horizontally."),
    "vertical_distance": ("{a} and {b} are {v} apart vertically.", "The vertical distance between {a} and {b} is {v}.",
                          "{a} is {v} away from {b} vertically."),
    "width": ("{a} is {v} wide.", "The width of {a} is {v}.", "{a} measures {v} in width."),
    "height": ("{a} is {v} tall.", "The height of {a} is {v}.", "{a} measures {v} in height."),
}
_CLOCK = ("{b} is roughly at {h} o'clock from {a}.", "From {a}, {b} is around the {h} o'clock direction.")


def bench_names(n: int) -> list[str]:
    """["Region [0]", "Region [1]", ...]."""
    return [f"Region [{k}]" for k in range(n)]


def _pick(options: Sequence[str], key: str) -> str:
    return options[zlib.crc32(key.encode("utf-8")) % len(options)]


def format_length(metres: float, key: str = "") -> str:
    """Human length: "35.2 centimeters"/"13.9 inches" under 1 m, "1.20 meters"/"3.94 feet" to 3 m, metres above."""
    metric = zlib.crc32(("unit" + key).encode("utf-8")) % 3 != 0  # mostly metric, sometimes imperial
    if metres < 1.0:
        return f"{metres * 100:.1f} centimeters" if metric else f"{metres / 0.0254:.1f} inches"
    if metres <= 3.0:
        return f"{metres:.2f} meters" if metric else f"{metres / 0.3048:.2f} feet"
    return f"{metres:.2f} meters"


def answer_text(category: str, names: Sequence[str], *, yes: Optional[bool] = None, choice: Optional[int] = None,
                value: Optional[float] = None, hour: Optional[int] = None, key: str = "") -> str:
    """Answer sentence for ``category`` naming the role regions ``names`` (subject first).

    yes: predicate truth; choice: index into ``names`` of the chosen region; value: metres; hour: 1..12.
    ``key`` (e.g. the question) picks the wording deterministically.
    """
    cat = get_category(category)
    key = f"{category}|{key}"
    if cat.answer == "predicate":
        if yes is None:
            raise ValueError(f"{category} needs yes=True/False")
        return _pick(_YES if yes else _NO, key).format(a=names[0], b=names[1], p=_PREDICATE_PHRASE[cat.relation])
    if cat.answer == "choice":
        if choice is None or not 0 <= choice < len(names):
            raise ValueError(f"{category} needs choice in 0..{len(names) - 1}, got {choice!r}")
        return _pick(_CHOICE, key).format(x=names[choice], p=_CHOICE_PHRASE[cat.relation])
    if cat.answer == "clock":
        if hour is None or not 1 <= hour <= 12:
            raise ValueError(f"direction needs hour in 1..12, got {hour!r}")
        return _pick(_CLOCK, key).format(a=names[0], b=names[1], h=hour)
    if value is None:
        raise ValueError(f"{category} needs a value in metres")
    b = names[1] if len(names) > 1 else ""
    return _pick(_LENGTH[cat.relation], key).format(a=names[0], b=b, v=format_length(value, key))


def refusal_text(reason: str) -> str:
    """The honest "cannot answer" sentence."""
    return f"I cannot answer that: {reason}"
