"""Reading answers: lengths with units (digits or words), clock hours, yes/no. Shared by every engine and the scorer."""

from __future__ import annotations

import re
from typing import Optional

from rgpt_ros.qa.references import strip_references

UNIT_TO_METRES: dict[str, float] = {
    "mm": 0.001, "millimeter": 0.001, "millimeters": 0.001, "millimetre": 0.001, "millimetres": 0.001,
    "cm": 0.01, "centimeter": 0.01, "centimeters": 0.01, "centimetre": 0.01, "centimetres": 0.01,
    "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
    "km": 1000.0, "kilometer": 1000.0, "kilometers": 1000.0, "kilometre": 1000.0, "kilometres": 1000.0,
    "in": 0.0254, "inch": 0.0254, "inches": 0.0254, '"': 0.0254, "''": 0.0254,
    "ft": 0.3048, "foot": 0.3048, "feet": 0.3048, "'": 0.3048,
    "yd": 0.9144, "yard": 0.9144, "yards": 0.9144,
}

_ONES = {"zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
         "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WORD = "|".join(sorted(list(_ONES) + list(_TENS) + ["hundred", "half", "quarter", "and", "point"], key=len, reverse=True))
_NUMBER_WORDS = re.compile(rf"\b(?:{_WORD})(?:[\s-]+(?:{_WORD}))*\b", re.IGNORECASE)

_UNIT = "|".join(sorted((re.escape(u) for u in UNIT_TO_METRES), key=len, reverse=True))
_NUMBER = r"\d+(?:[.,]\d+)*(?:\.\d+)?|\.\d+"
_LENGTH = re.compile(rf"(?P<num>{_NUMBER})\s*(?:-\s*)?(?P<unit>{_UNIT})(?![A-Za-z])", re.IGNORECASE)
_HOUR_WORDS = "|".join(w for w, v in _ONES.items() if 1 <= v <= 12 and w not in ("a", "an"))
_CLOCK = re.compile(rf"\b(?P<hour>\d{{1,2}}|{_HOUR_WORDS})\s*(?:o['’`]?\s*clock|:00\b)", re.IGNORECASE)

_YES_START = re.compile(r"^\W*(yes|yeah|yep|indeed|correct|right|true|that is true|affirmative|absolutely|certainly)\b",
                        re.IGNORECASE)
_NO_START = re.compile(r"^\W*(no|nope|incorrect|false|that is false|not|negative|in fact|actually)\b", re.IGNORECASE)
_UNDECIDED = re.compile(r"\b(cannot|can't|can not|unable to|not sure|don't know|do not know|unclear)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(not|n't|isn't|aren't|doesn't|neither|nor|never)\b|n't\b", re.IGNORECASE)


class UnitError(ValueError):
    """An unknown length unit."""


def to_metres(value: float, unit: str) -> float:
    """Convert ``value`` in ``unit`` (any spelling in UNIT_TO_METRES) to metres."""
    key = unit.strip().lower()
    if key not in UNIT_TO_METRES:
        raise UnitError(f"unknown length unit {unit!r}; known: {sorted(set(UNIT_TO_METRES))}")
    return float(value) * UNIT_TO_METRES[key]


def words_to_number(text: str) -> Optional[float]:
    """"two" -> 2, "twenty-five" -> 25, "one and a half" -> 1.5, "three point five" -> 3.5; None if not a number."""
    tokens = [t for t in re.split(r"[\s-]+", text.lower().strip()) if t]
    if not tokens:
        return None
    total, current, fraction, seen = 0.0, 0.0, 0.0, False
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "point" and seen and i + 1 < len(tokens):
            digits = "".join(str(_ONES[d]) for d in tokens[i + 1:] if d in _ONES and _ONES[d] < 10)
            return total + current + (float("0." + digits) if digits else 0.0)
        if t in _ONES and t not in ("a", "an"):
            current += _ONES[t]
            seen = True
        elif t in _TENS:
            current += _TENS[t]
            seen = True
        elif t == "hundred":
            current = max(current, 1.0) * 100
            seen = True
        elif t == "half":
            fraction = 0.5
            seen = True
        elif t == "quarter":
            fraction = 0.25
            seen = True
        elif t not in ("and", "a", "an"):
            return None
        i += 1
    return total + current + fraction if seen else None


_HALF_A = re.compile(r"\bhalf\s+an?\s+", re.IGNORECASE)
_A_UNIT = re.compile(r"\ban?\s+(?=(?:foot|meter|metre|inch|yard|centimet(?:er|re)|millimet(?:er|re))\b)", re.IGNORECASE)


def _spell_out(text: str) -> str:
    """Replace number words by digits so one regex reads both forms ("a foot" is 1 foot)."""
    text = _A_UNIT.sub("1 ", _HALF_A.sub("0.5 ", text))
    def repl(match: re.Match) -> str:
        phrase = match.group(0)
        stripped = re.sub(r"^(?:(?:and|a|an|point)[\s-]+)+", "", phrase, flags=re.IGNORECASE)
        value = words_to_number(stripped) if stripped.strip() else None
        if value is None or re.fullmatch(r"(?:a|an|and|point)", stripped.strip(), re.IGNORECASE):
            return phrase
        lead = phrase[: len(phrase) - len(stripped)]
        return f"{lead}{value:g}"
    return _NUMBER_WORDS.sub(repl, text)


def parse_lengths(text: str) -> list[float]:
    """Every length in the text, in metres, in order (feet followed by inches are summed: 5 feet 6 inches)."""
    clean = _spell_out(strip_references(text))
    out: list[float] = []
    prev_end, prev_unit = -10, ""
    for match in _LENGTH.finditer(clean):
        number = match.group("num").replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", match.group("num")) \
            else match.group("num").replace(",", ".")
        metres = to_metres(float(number), match.group("unit"))
        unit = match.group("unit").lower()
        gap = clean[prev_end:match.start()]
        if out and prev_unit in ("ft", "foot", "feet", "'") and unit in ("in", "inch", "inches", '"', "''") \
                and re.fullmatch(r"\s*(?:and\s*)?,?\s*", gap):
            out[-1] += metres
        else:
            out.append(metres)
        prev_end, prev_unit = match.end(), unit
    return out


def parse_length(text: str) -> Optional[float]:
    """The first length in ``text`` in metres ("1.5 meters", "two feet", "35cm", "5 feet 6 inches"), else None."""
    lengths = parse_lengths(text)
    return lengths[0] if lengths else None


def parse_clock(text: str) -> Optional[int]:
    """Clock hour 1..12 from "10 o'clock", "ten o'clock", "3:00"; None when absent."""
    match = _CLOCK.search(strip_references(text))
    if match is None:
        return None
    token = match.group("hour").lower()
    hour = int(token) if token.isdigit() else _ONES.get(token)
    if hour is None or not 0 <= hour <= 24:
        return None
    hour %= 12
    return 12 if hour == 0 else hour


def parse_yes_no(text: str) -> Optional[bool]:
    """Yes/no from an answer: the leading word when it decides ("Yes, ...", "Indeed", "Incorrect", "In fact"),
    else negation in the sentence means no, a plain statement means yes; None for empty text and for
    refusals ("I cannot answer ...", "not sure")."""
    stripped = text.strip()
    if not stripped:
        return None
    if _YES_START.match(stripped):
        return True
    if _NO_START.match(stripped):
        return False
    if _UNDECIDED.search(stripped):
        return None
    return not bool(_NEGATION.search(stripped))


def hour_difference(a: int, b: int) -> int:
    """Circular difference between two clock hours (0..6)."""
    d = abs(int(a) - int(b)) % 12
    return min(d, 12 - d)
