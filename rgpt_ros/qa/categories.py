"""The 24 SpatialRGPT-Bench question categories (names as in the bench's ``qa_info.category``).

Qualitative: <relation>_predicate ("Is A left of B?" -> yes/no) and <relation>_choice
("Which is more to the left, A or B?" -> a region). Quantitative: *_data (a length) and direction
(a clock hour). Three extra choice categories (wide/big/behind... choices) are not in the bench but
answer users' natural paraphrases; they are flagged ``in_bench=False``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """name: bench string; kind: qualitative|quantitative; answer: predicate|choice|length|clock;
    relation: the qualitative relation (left, above, tall, ...) or the measurement name; regions: 1 or 2."""

    name: str
    kind: str
    answer: str
    relation: str
    regions: int = 2
    in_bench: bool = True


_PREDICATES = ("left", "right", "above", "below", "behind", "front", "tall", "short", "wide", "thin", "big", "small")
_BENCH_CHOICES = ("left", "right", "above", "below", "tall", "short")
_EXTRA_CHOICES = ("behind", "front", "wide", "thin", "big", "small")

CATEGORIES: dict[str, Category] = {}
for _rel in _PREDICATES:
    CATEGORIES[f"{_rel}_predicate"] = Category(f"{_rel}_predicate", "qualitative", "predicate", _rel)
for _rel in _BENCH_CHOICES + _EXTRA_CHOICES:
    CATEGORIES[f"{_rel}_choice"] = Category(f"{_rel}_choice", "qualitative", "choice", _rel,
                                            in_bench=_rel in _BENCH_CHOICES)
for _name, _regions in (("distance", 2), ("horizontal_distance", 2), ("vertical_distance", 2),
                        ("width", 1), ("height", 1)):
    CATEGORIES[f"{_name}_data"] = Category(f"{_name}_data", "quantitative", "length", _name, _regions)
CATEGORIES["direction"] = Category("direction", "quantitative", "clock", "direction")

BENCH_CATEGORIES: tuple[str, ...] = tuple(name for name, c in CATEGORIES.items() if c.in_bench)
QUALITATIVE: tuple[str, ...] = tuple(n for n in BENCH_CATEGORIES if CATEGORIES[n].kind == "qualitative")
QUANTITATIVE: tuple[str, ...] = tuple(n for n in BENCH_CATEGORIES if CATEGORIES[n].kind == "quantitative")


class UnknownCategoryError(ValueError):
    """A category name that is not one of CATEGORIES."""


def get_category(name: str) -> Category:
    try:
        return CATEGORIES[name]
    except KeyError:
        raise UnknownCategoryError(f"unknown category {name!r}; known: {sorted(CATEGORIES)}") from None
