"""The engine interface shared by the geometric engine and the SpatialRGPT model."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, Sequence, runtime_checkable

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.regions import Region


@dataclass
class SpatialAnswer:
    """An engine's answer to one question.

    success:  False when the engine could not answer (message says why); text may then be a polite refusal.
    text:     answer in the bench style, regions named by the user's ids or ``Region [k]``.
    value:    numeric value for quantitative questions (in ``unit``), else None.
    unit:     "m" for distances/sizes, "m3" for volumes, "oclock" for directions, "" otherwise.
    category: the bench category the question was understood as (None when unknown).
    choice:   region id chosen for choice questions; ``yes``: boolean for predicates.
    """

    success: bool
    text: str
    value: Optional[float] = None
    unit: str = ""
    category: Optional[str] = None
    message: str = ""
    choice: Optional[str] = None
    yes: Optional[bool] = None
    source: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class SpatialEngine(Protocol):
    """Answers free-form spatial questions about named regions in one RGB-D frame."""

    name: str

    def answer(self, frame: RGBDFrame, regions: Sequence[Region], question: str) -> SpatialAnswer:
        """Answer one question; regions are referenced as <region0>, <id>, <mask> or Region [k]."""
        ...

    def answer_many(self, frame: RGBDFrame, regions: Sequence[Region], questions: Sequence[str]) -> list[SpatialAnswer]:
        """Answer several questions on one frame (engines reuse per-frame work)."""
        ...


# name -> "module:factory"; factories take keyword options and return a SpatialEngine.
_ENGINES: dict[str, str] = {
    "geometric": "rgpt_ros.engines.geometric:GeometricEngine",
    "spatialrgpt": "rgpt_ros.engines.spatialrgpt:SpatialRGPTEngine",
}


def register_engine(name: str, target: str) -> None:
    """Register an engine factory by import path ``"package.module:Factory"``."""
    _ENGINES[name] = target


def available_engines() -> list[str]:
    return sorted(_ENGINES)


def make_engine(name: str, **options: Any) -> SpatialEngine:
    """Build the engine called ``name`` with its options; unknown names list the known ones."""
    if name not in _ENGINES:
        raise ValueError(f"unknown backend {name!r}; choose one of {available_engines()}")
    module_name, _, attr = _ENGINES[name].partition(":")
    factory: Callable[..., SpatialEngine] = getattr(importlib.import_module(module_name), attr)
    return factory(**options)
