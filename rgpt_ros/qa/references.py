"""Region references inside question text.

Users and datasets name regions in four ways, all resolved here for every engine:
``<region0>`` (index into the region list), ``<fingertip>`` (a region id), ``Region [0]``
(bench text) and bare ``<mask>`` tokens (the k-th ``<mask>`` is the k-th region).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from rgpt_ros.geometry.regions import Region

# <region0>, <region 1>, Region [2], Region[2], region 2 (bench answers), <mask> (optionally "<mask> <depth>"), <any_id>
_REFERENCE = re.compile(
    r"<region\s*(?P<index>\d+)>"
    r"|\bRegion\s*\[\s*(?P<bench>\d+)\s*\]"
    r"|(?P<mask><mask>(?:\s*<depth>)?)"
    r"|<(?P<name>[A-Za-z_][\w\-./]*)>",
    re.IGNORECASE,
)
_NOT_REGION_TOKENS = {"image", "depth"}


class ReferenceError(ValueError):
    """A question names a region that does not exist."""


@dataclass(frozen=True)
class ResolvedQuestion:
    """A question with its region references resolved.

    mentions: region index (into the given list) of each reference, in order of appearance
              (a region mentioned twice appears twice).
    template: the text with the k-th reference replaced by ``{k}``-style slot ``\x00k\x00``.
    """

    original: str
    mentions: tuple[int, ...]
    template: str

    @property
    def distinct(self) -> tuple[int, ...]:
        """Region indices in order of first appearance, without repeats."""
        return tuple(dict.fromkeys(self.mentions))

    def render(self, name_of_mention) -> str:
        """Replace the k-th slot by ``name_of_mention(k, region_index)``."""
        parts = self.template.split("\x00")
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            k = int(parts[i])
            out.append(name_of_mention(k, self.mentions[k]))
            out.append(parts[i + 1])
        return "".join(out)

    def as_bench_text(self) -> str:
        """Question naming the distinct regions ``Region [k]`` by order of first appearance."""
        order = {index: k for k, index in enumerate(self.distinct)}
        return self.render(lambda _k, index: f"Region [{order[index]}]")


def resolve_references(question: str, regions: Sequence[Region]) -> ResolvedQuestion:
    """Find every region reference in ``question`` and map it to an index in ``regions``.

    Raises ReferenceError naming the unknown reference and the ids that exist.
    """
    ids = {region.id: i for i, region in enumerate(regions)}
    lowered = {region.id.lower(): i for i, region in enumerate(regions)}
    mentions: list[int] = []
    pieces: list[str] = []
    last = 0
    mask_count = 0
    for match in _REFERENCE.finditer(question):
        if match.group("name") is not None and match.group("name").lower() in _NOT_REGION_TOKENS:
            continue
        if match.group("index") is not None or match.group("bench") is not None:
            index = int(match.group("index") or match.group("bench"))
            if str(index) in ids and match.group("bench") is not None:
                index = ids[str(index)]
            if index >= len(regions):
                raise ReferenceError(f"the question names region {index} but only {len(regions)} "
                                     f"region(s) are known: {[r.id for r in regions]}")
        elif match.group("mask") is not None:
            index = mask_count
            mask_count += 1
            if index >= len(regions):
                raise ReferenceError(f"the question has more <mask> tokens than the {len(regions)} given region(s)")
        else:
            name = match.group("name")
            if name in ids:
                index = ids[name]
            elif name.lower() in lowered:
                index = lowered[name.lower()]
            else:
                raise ReferenceError(f"unknown region id <{name}>; known ids: {[r.id for r in regions]}")
        pieces.append(question[last:match.start()])
        pieces.append(f"\x00{len(mentions)}\x00")
        mentions.append(index)
        last = match.end()
    pieces.append(question[last:])
    return ResolvedQuestion(original=question, mentions=tuple(mentions), template="".join(pieces))


def strip_references(text: str, replacement: str = " ") -> str:
    """``text`` with every region reference (``<region0>``, ``Region [1]``, ``<mask>``, ``<id>``) replaced,
    e.g. so that the digits in ``Region [0]`` are not read as numbers."""
    return _REFERENCE.sub(replacement, text)
