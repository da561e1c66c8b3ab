"""Free-form spatial question -> bench category + region roles, without a model.

Works on the question with its region references replaced by role slots (first distinct region = A,
second = B). Paraphrases are recognised by cue words, not by matching the bench templates, and anything
not clearly one category returns None ("cannot answer") rather than a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from rgpt_ros.geometry.regions import Region
from rgpt_ros.qa.categories import CATEGORIES
from rgpt_ros.qa.references import ResolvedQuestion, resolve_references


@dataclass(frozen=True)
class ParsedQuestion:
    """category: a key of CATEGORIES. roles: region indices (into the given list) in role order:
    (subject, object) for predicates/distances, (origin, target) for direction, the candidates for
    choices, (region,) for width/height. resolved: the reference resolution of the text."""

    category: str
    roles: tuple[int, ...]
    resolved: ResolvedQuestion


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


_DISTANCE = _rx(r"\bdistance|\bhow (?:far|close|near|distant)\b|\bfar apart\b|\bapart\b|\bgap\b|\bseparat"
                r"|\b(?:space|room)\s+(?:is\s+there\s+|there\s+is\s+|is\s+)?between\b"
                r"|\bhow much (?:higher|lower)\b|\bheight difference\b|\bdifference in (?:height|elevation)\b")
_VERTICAL = _rx(r"\bvertical|\bheight difference\b|\bdifference in (?:height|elevation)\b|\belevation\b"
                r"|\bhow much (?:higher|lower)\b|\bup and down\b")
_HORIZONTAL = _rx(r"\bhorizontal|\bsideways\b|\blateral|\bside to side\b|\bleft.to.right\b")
_DIRECTION = _rx(r"o\s*'?\s*clock|\bclock\b|\bdirection\b|\bwhere (?:will|would|can|could|do|does|should|might)\b"
                 r"|\bwhere (?:is|are)\b.*\b(?:from|relative to|with respect to)\b|\bwhich way\b|\bbearing\b")
_ORIGIN_MARK = _rx(r"(?:\bat|\bfrom|\brelative to|\bwith respect to|\bstanding (?:at|by|next to)|\bbeside)\s*$")
_WIDTH = _rx(r"\bwide\b|\bwidth\b|\bhorizontal (?:size|dimension|extent)|\bacross\b|\boccupy horizontally\b"
             r"|\bradius\b|\bbroad\b|\bbreadth\b")
_HEIGHT = _rx(r"\btall\b|\bheight\b|\bhow high\b|\bvertical (?:size|dimension|extent)|\bverticall? size\b"
              r"|\boccupy vertically\b|\bvericall\b")
_CHOICE = _rx(r"\bwhich\b|\bwho\b|\bwhat (?:one|region|object|item|thing)\b|\x01\d\x01\s*,?\s*or\s+\x01\d\x01")
_UNSUPPORTED = _rx(r"\bhow (?:much|many) (?:taller|shorter|wider|thinner|bigger|smaller|larger|further|farther|closer)\b"
                   r"|\bhow many\b|\bcolou?r\b|\bwhat is (?:the )?\x01\d\x01\b|\bwhat kind\b")
_SWAP_MARK = _rx(r"(?:\bcompared (?:to|with)|\brelative to|\bwith respect to|\bin relation to|\bthan|"
                 r"\bfrom the perspective of)\s*,?\s*$")

_MORE = "greater|larger|bigger|more|higher"
_LESS = "smaller|less|lesser|lower|shorter"


def _measure_compared(measures: str, comparatives: str) -> str:
    """Cue for a compared measurement: "the height of A is greater", "A's width smaller", "whose size is larger"."""
    owner = rf"(?:\b(?:{measures}) of \x01\d\x01|\x01\d\x01'?s (?:{measures})|\b(?:{measures})(?= is\b))"
    return rf"{owner},?(?:\s+is)?\s+(?:{comparatives})\b"


# "closer to the left edge" is about left/right/up/down, not about depth.
_NOT_TOWARDS_SIDE = r"(?!\s+(?:to\s+)?the\s+(?:left|right|top|bottom)\b)"
_AWAY_FROM = r"\b(?:further|farther|furthest|farthest|more distant)(?:\s+away)?\s+from\s+the\s+"


def _away_from(side: str) -> re.Pattern:
    """Cue for "farther (away) from the <side> (edge)": the opposite side of the image."""
    return _rx(_AWAY_FROM + side + r"\b")

# Relation cues, most specific first (so "lesser height" is short, not tall).
_RELATIONS: tuple[tuple[str, re.Pattern], ...] = (
    ("short", _rx(r"\bshorter\b|\blesser height\b|\bless height\b|\bnot as tall\b|\bshort\b|"
                  + _measure_compared("height", _LESS))),
    ("tall", _rx(r"\btaller\b|\bgreater height\b|\bmore height\b|\btallest\b|" + _measure_compared("height", _MORE))),
    ("thin", _rx(r"\bthinner\b|\bnarrower\b|\blesser width\b|\bless width\b|\bthin\b|\bnarrow\b|\bthinnest\b|"
                 + _measure_compared("width", _LESS))),
    ("wide", _rx(r"\bwider\b|\bgreater width\b|\bmore width\b|\bbroader\b|\bwidest\b|" + _measure_compared("width", _MORE))),
    ("small", _rx(r"\bsmaller\b|\bless space\b|\bsmaller size\b|\bsmallest\b|\btinier\b|"
                  + _measure_compared("size|volume", _LESS))),
    ("big", _rx(r"\bbigger\b|\blarger\b|\bgreater size\b|\bmore space\b|\bbiggest\b|\blargest\b|"
                + _measure_compared("size|volume", _MORE))),
    ("right", _away_from("left")),
    ("left", _away_from("right")),
    ("below", _away_from("top")),
    ("above", _away_from("bottom")),
    ("front", _rx(rf"\bin front\b|\b(?:closer|nearer|closest|nearest)\b{_NOT_TOWARDS_SIDE}|\bless distant\b|\bbefore\b"
                  r"|\bforward\b|\bahead of\b")),
    ("behind", _rx(r"\bbehind\b|\b(?:further|farther)\b(?!\s+(?:to the\s+)?(?:right|left|up|down)\b)|\bmore distant\b|\bat the back\b|\bin back of\b"
                   r"|\bbackward|\bfurthest\b|\bfarthest\b")),
    ("left", _rx(r"\bleft\b|\bleftmost\b")),
    ("right", _rx(r"\bright\b|\brightmost\b")),
    ("below", _rx(r"\bbelow\b|\bunder(?:neath)?\b|\bbeneath\b|\blower\b|\blowest\b|\bbottom\b")),
    ("above", _rx(r"\babove\b|\bover\b|\bhigher\b|\btop\b|\batop\b|\bhighest\b")),
)


def parse_question(question: str, regions: Sequence[Region]) -> Optional[ParsedQuestion]:
    """Category and region roles of ``question``; None when it is not a question this engine can answer.

    Raises ReferenceError (a ValueError) when the question names a region that is not in ``regions``.
    """
    resolved = resolve_references(question, regions)
    distinct = resolved.distinct
    slots = {index: k for k, index in enumerate(distinct)}
    text = resolved.render(lambda _k, index: f"\x01{slots[index]}\x01").replace("’", "'")
    found = classify(text, len(distinct))
    if found is None:
        return None
    category, order = found
    return ParsedQuestion(category, tuple(distinct[k] for k in order), resolved)


def classify(text: str, n_regions: int) -> Optional[tuple[str, tuple[int, ...]]]:
    """Category and role order (slot numbers) of a question whose k-th distinct region is written ``\\x01k\\x01``."""
    if n_regions == 0 or _UNSUPPORTED.search(text):
        return None
    if n_regions == 1:
        wide, tall = bool(_WIDTH.search(text)), bool(_HEIGHT.search(text))
        if wide != tall:
            return ("width_data" if wide else "height_data"), (0,)
        return None
    if _DISTANCE.search(text) and n_regions == 2:
        vertical, horizontal = bool(_VERTICAL.search(text)), bool(_HORIZONTAL.search(text))
        if vertical and horizontal:
            return None
        name = "vertical_distance_data" if vertical else "horizontal_distance_data" if horizontal else "distance_data"
        return name, _subject_order(text)
    if _DIRECTION.search(text) and n_regions == 2:
        return "direction", _origin_order(text)
    relation = next((name for name, pattern in _RELATIONS if pattern.search(text)), None)
    if relation is None:
        return None
    if _CHOICE.search(text):
        return f"{relation}_choice", tuple(range(n_regions))
    if n_regions != 2 or f"{relation}_predicate" not in CATEGORIES:
        return None
    return f"{relation}_predicate", _subject_order(text)


def _subject_order(text: str) -> tuple[int, int]:
    """(0, 1) unless the first-mentioned region is the object ("Compared to A, is B left?")."""
    first = text.find("\x01")
    return (1, 0) if _SWAP_MARK.search(text[:first]) else (0, 1)


def _origin_order(text: str) -> tuple[int, int]:
    """(origin, target): the region after "at"/"from"/"relative to" is the origin; else the first mentioned."""
    for match in re.finditer(r"\x01(\d)\x01", text):
        if _ORIGIN_MARK.search(text[:match.start()].rstrip(" ,")):
            origin = int(match.group(1))
            return origin, 1 - origin
    return 0, 1
