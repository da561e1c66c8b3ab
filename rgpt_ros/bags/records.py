"""One annotated frame as written to the CSV and the plot."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

Box = tuple[int, int, int, int]


@dataclass
class FrameRecord:
    """Annotation of one synchronised frame; ``boxes`` maps region id -> pixel box (None when lost)."""

    frame: int
    stamp_ns: int
    distance_m: float = math.nan
    reward: float = 0.0
    valid: bool = False
    progress: float = 0.0
    success: bool = False
    status: str = ""
    boxes: dict[str, Optional[Box]] = field(default_factory=dict)
    tracked: dict[str, bool] = field(default_factory=dict)

    @property
    def tracking_lost(self) -> bool:
        return not all(self.tracked.values()) if self.tracked else not self.valid
