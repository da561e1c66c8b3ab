"""Deterministic scorer for SpatialRGPT-Bench answers and the per-category summary table.

predicate: yes/no must match; choice: the named region must match; lengths: within +-25 % of the
reference (abs-rel error reported); direction: clock hour within 1 hour (circular).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from rgpt_ros.qa.categories import CATEGORIES, get_category
from rgpt_ros.qa.units import hour_difference, parse_clock, parse_length, parse_yes_no

LENGTH_TOLERANCE = 0.25
CLOCK_TOLERANCE_HOURS = 1

_REGION_NAME = re.compile(r"\bRegion\s*\[\s*(\d+)\s*\]|<region\s*(\d+)>|\bregion\s*(\d+)\b|<([A-Za-z_][\w\-./]*)>",
                          re.IGNORECASE)
_BETWEEN = re.compile(r"\b(?:between|among)\b[^,.;]*?\band\b[^,.;]*?,", re.IGNORECASE)


@dataclass
class Score:
    """One sample's score. success None = not scorable (reference unreadable or sample skipped)."""

    category: str
    success: Optional[bool]
    abs_rel: Optional[float] = None
    hour_error: Optional[int] = None
    pred: object = None
    ref: object = None
    skipped: bool = False


def parse_choice(text: str) -> Optional[str]:
    """The region an answer names ("Region [1] is taller." -> "1"); a leading "Between A and B," is ignored."""
    body = _BETWEEN.sub(" ", text, count=1)
    match = _REGION_NAME.search(body) or _REGION_NAME.search(text)
    if match is None:
        return None
    return next(g for g in match.groups() if g is not None).lower()


def score_answer(category: str, pred_text: str, ref_text: str, *, pred_value: Optional[float] = None,
                 pred_unit: str = "") -> Score:
    """Score a predicted answer against the reference answer of one bench sample.

    pred_value/pred_unit: the engine's numeric answer ("m" or "oclock"), used instead of parsing its text.
    """
    kind = get_category(category).answer
    if kind == "predicate":
        pred, ref = parse_yes_no(pred_text), parse_yes_no(ref_text)
        return Score(category, None if ref is None else pred == ref, pred=pred, ref=ref)
    if kind == "choice":
        pred, ref = parse_choice(pred_text), parse_choice(ref_text)
        return Score(category, None if ref is None else pred == ref, pred=pred, ref=ref)
    if kind == "clock":
        pred = int(pred_value) if pred_value is not None and pred_unit == "oclock" else parse_clock(pred_text)
        ref = parse_clock(ref_text)
        if ref is None:
            return Score(category, None, pred=pred, ref=ref)
        if pred is None:
            return Score(category, False, pred=pred, ref=ref)
        error = hour_difference(pred, ref)
        return Score(category, error <= CLOCK_TOLERANCE_HOURS, hour_error=error, pred=pred, ref=ref)
    pred = float(pred_value) if pred_value is not None and pred_unit == "m" else parse_length(pred_text)
    ref = parse_length(ref_text)
    if ref is None or ref <= 0:
        return Score(category, None, pred=pred, ref=ref)
    if pred is None:
        return Score(category, False, pred=pred, ref=ref)
    rel = abs(pred - ref) / ref
    return Score(category, rel <= LENGTH_TOLERANCE, abs_rel=rel, pred=pred, ref=ref)


@dataclass
class SummaryRow:
    name: str
    total: int
    scored: int
    skipped: int
    success: Optional[float]  # percent over scored samples
    abs_rel: Optional[float]  # mean, lengths only
    hour_error: Optional[float] = None


def _row(name: str, scores: list[Score]) -> SummaryRow:
    scored = [s for s in scores if s.success is not None and not s.skipped]
    rels = [s.abs_rel for s in scored if s.abs_rel is not None]
    hours = [s.hour_error for s in scored if s.hour_error is not None]
    return SummaryRow(name, len(scores), len(scored), sum(s.skipped for s in scores),
                      100.0 * sum(bool(s.success) for s in scored) / len(scored) if scored else None,
                      sum(rels) / len(rels) if rels else None, sum(hours) / len(hours) if hours else None)


def summarise(scores: Iterable[Score]) -> list[SummaryRow]:
    """Per-category rows (bench order) then qualitative / quantitative / overall rows.

    The group rows average the per-category success rates (as the bench reports) over categories present."""
    scores = list(scores)
    base = [_row(name, [s for s in scores if s.category == name]) for name in CATEGORIES]
    base = [r for r in base if r.total]
    rows = list(base)
    for group in ("qualitative", "quantitative"):
        members = [r for r in base if CATEGORIES[r.name].kind == group]
        if members:
            rows.append(_group_row(f"[{group}]", members, [s for s in scores if CATEGORIES[s.category].kind == group]))
    if base:
        rows.append(_group_row("[all]", base, scores))
    return rows


def _group_row(name: str, members: list[SummaryRow], scores: list[Score]) -> SummaryRow:
    row = _row(name, scores)
    rates = [r.success for r in members if r.success is not None]
    row.success = sum(rates) / len(rates) if rates else None
    return row


def format_table(rows: list[SummaryRow]) -> str:
    """Plain-text table: category, n, scored, skipped, success %, abs-rel (lengths), hour error (direction)."""
    def fmt(value: Optional[float], spec: str) -> str:
        return "-" if value is None else format(value, spec)

    lines = [f"{'category':<26}{'n':>6}{'scored':>8}{'skipped':>9}{'success%':>10}{'abs-rel':>9}{'hour-err':>10}"]
    for r in rows:
        if r.name.startswith("["):
            lines.append("-" * len(lines[0]))
        lines.append(f"{r.name:<26}{r.total:>6}{r.scored:>8}{r.skipped:>9}{fmt(r.success, '.1f'):>10}"
                     f"{fmt(r.abs_rel, '.3f'):>9}{fmt(r.hour_error, '.2f'):>10}")
    return "\n".join(lines)
