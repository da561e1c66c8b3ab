"""Prompts in the reference ``llama_3`` template, region token expansion, token ids, answer mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from rgpt_ros.geometry.regions import Region
from rgpt_ros.qa.references import ResolvedQuestion, resolve_references

IMAGE_TOKEN = "<image>"
MASK_TOKEN = "<mask>"
DEPTH_TOKEN = "<depth>"
IMAGE_TOKEN_INDEX = -200  # placeholder id for the 196 image embeddings (never a vocabulary id)
STOP_TOKEN = "<|eot_id|>"

SYSTEM = ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision "
          "assistant. You are able to understand the visual content that the user provides, and assist the user "
          "with a variety of tasks using natural language.")
USER_HEADER = "<|start_header_id|>user<|end_header_id|>\n\n"
ASSISTANT_HEADER = "<|start_header_id|>assistant<|end_header_id|>\n\n"

_IMAGE_IN_QUESTION = re.compile(r"<image>\s*\n?", re.IGNORECASE)
_STRAY_DEPTH = re.compile(r"\s*<depth>", re.IGNORECASE)
_BENCH_REGION = re.compile(r"\bRegion\s*\[\s*(\d+)\s*\]", re.IGNORECASE)
_BENCH_STYLE = re.compile(r"\bRegion\s*\[\s*\d+\s*\]|<mask>", re.IGNORECASE)


class PromptError(ValueError):
    """A prompt whose region tokens do not match the regions given."""


@dataclass(frozen=True)
class RegionPrompt:
    """A question rewritten for the model.

    text:     the user turn (``<image>\\n`` + question with each mention as ``<mask> <depth>``).
    mentions: region index (into the engine's region list) of the k-th ``<mask>``; repeats allowed.
    resolved: the parsed question, for answer rendering.
    """

    text: str
    mentions: tuple[int, ...]
    resolved: ResolvedQuestion


def region_placeholder(with_depth: bool) -> str:
    return f"{MASK_TOKEN} {DEPTH_TOKEN}" if with_depth else MASK_TOKEN


def expand_regions(question: str, regions: Sequence[Region], with_depth: bool = True) -> RegionPrompt:
    """Replace every region reference (``<region0>``, ``<id>``, ``Region [k]``, ``<mask>``) by region tokens.

    The k-th mention becomes the k-th ``<mask>`` (and ``<depth>``), bound to the k-th mask; a region
    mentioned twice is listed twice. Any ``<image>`` the user wrote is dropped (the template adds it), and
    so is a ``<depth>`` that does not follow a region reference.
    """
    cleaned = _IMAGE_IN_QUESTION.sub("", question).strip()
    if not cleaned:
        raise PromptError(f"empty question {question!r}")
    resolved = resolve_references(cleaned, regions)
    marked = resolved.render(lambda _k, _index: "\x01")
    marked = _STRAY_DEPTH.sub("", marked)  # a <depth> not following a region reference would take no embedding
    text = marked.replace("\x01", region_placeholder(with_depth))
    return RegionPrompt(text=f"{IMAGE_TOKEN}\n{text}", mentions=resolved.mentions, resolved=resolved)


def build_prompt(user_turn: str) -> str:
    """The full ``llama_3`` prompt for one user turn, ending with the assistant header."""
    return f"{SYSTEM}{STOP_TOKEN}{USER_HEADER}{user_turn}{STOP_TOKEN}{ASSISTANT_HEADER}"


def tokenize_with_image(prompt: str, tokenizer) -> list[int]:
    """Token ids with IMAGE_TOKEN_INDEX where ``<image>`` was, exactly as the reference splits and joins.

    Each chunk is tokenised separately with the tokenizer's defaults; a leading BOS of the first
    chunk is kept once and stripped from the following chunks.
    """
    chunks = [tokenizer(chunk).input_ids for chunk in prompt.split(IMAGE_TOKEN)]
    ids: list[int] = []
    offset = 0
    if chunks and chunks[0] and chunks[0][0] == tokenizer.bos_token_id:
        offset = 1
        ids.append(chunks[0][0])
    for i, chunk in enumerate(chunks):
        if i:
            ids.append(IMAGE_TOKEN_INDEX)
        ids.extend(chunk[offset:])
    return ids


def display_name(regions: Sequence[Region], index: int, bench_style: bool) -> str:
    """How answers name region ``index``: ``Region [index]`` for bench-style questions or numeric ids, else its id
    (the geometric engine's convention)."""
    region = regions[index]
    return f"Region [{index}]" if bench_style or region.id.isdigit() else region.id


def map_answer_regions(answer: str, order: Sequence[int], regions: Sequence[Region], bench_style: bool = False) -> str:
    """Rewrite the model's ``Region [k]`` as the name of ``regions[order[k]]`` (see display_name).

    Pass ``RegionPrompt.resolved.distinct`` as ``order``: k counts regions by first appearance in the
    prompt (the bench convention; identical to mention order when no region is repeated).
    Out-of-range k is left as written.
    """
    def name(match: re.Match) -> str:
        k = int(match.group(1))
        if k < len(order):
            return display_name(regions, order[k], bench_style)
        return match.group(0)

    return _BENCH_REGION.sub(name, answer)


def answer_region(answer: str, order: Sequence[int]) -> Optional[int]:
    """Region index (into the region list) of the first ``Region [k]`` the model's answer names, else None."""
    for match in _BENCH_REGION.finditer(answer):
        k = int(match.group(1))
        if k < len(order):
            return order[k]
    return None


def is_bench_style(question: str) -> bool:
    """True when the question names regions as ``Region [k]`` or bare ``<mask>`` tokens."""
    return bool(_BENCH_STYLE.search(question))
