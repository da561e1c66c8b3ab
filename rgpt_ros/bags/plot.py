"""PNG plot of distance and reward over time with lost-tracking and invalid spans shaded."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from rgpt_ros.bags.records import FrameRecord


def _spans(times: np.ndarray, flags: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) time spans where ``flags`` is true; each frame covers up to the next one."""
    if times.size == 0:
        return []
    step = float(np.median(np.diff(times))) if times.size > 1 else 0.033
    ends = np.append(times[1:], times[-1] + step)
    spans, start = [], None
    for t, end, flag in zip(times, ends, flags):
        if flag and start is None:
            start = t
        if not flag and start is not None:
            spans.append((start, t))
            start = None
    if start is not None:
        spans.append((start, ends[-1]))
    return spans


def write_plot(records: Sequence[FrameRecord], path: str | Path, title: str = "",
               truth_m: Optional[Sequence[float]] = None) -> Path:
    """Distance (m) and reward against time (s from the first frame); red = tracking lost, grey = invalid.

    ``truth_m`` (one true distance per record, e.g. for generated episodes) is drawn dashed for comparison.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    times = np.array([r.stamp_ns for r in records], dtype=np.float64)
    times = (times - times[0]) * 1e-9 if times.size else times
    distance = np.array([r.distance_m if r.valid else np.nan for r in records], dtype=np.float64)
    reward = np.array([r.reward for r in records], dtype=np.float64)
    lost = np.array([r.tracking_lost for r in records], dtype=bool)
    invalid = np.array([not r.valid for r in records], dtype=bool) & ~lost

    fig, (ax_d, ax_r) = plt.subplots(2, 1, sharex=True, figsize=(9, 5), constrained_layout=True)
    ax_d.plot(times, distance, color="tab:blue", lw=1.5, label="measured")
    if truth_m is not None:
        ax_d.plot(times, np.asarray(truth_m, dtype=np.float64), color="k", lw=1.0, ls="--", label="ground truth")
    ax_d.set_ylabel("distance (m)")
    ax_r.plot(times, reward, color="tab:green", lw=1.5)
    ax_r.set_ylabel("reward")
    ax_r.set_xlabel("time (s)")
    for ax in (ax_d, ax_r):
        for i, (a, b) in enumerate(_spans(times, lost)):
            ax.axvspan(a, b, color="tab:red", alpha=0.25, lw=0, label="tracking lost" if i == 0 else None)
        for i, (a, b) in enumerate(_spans(times, invalid)):
            ax.axvspan(a, b, color="0.6", alpha=0.3, lw=0, label="invalid" if i == 0 else None)
        ax.grid(alpha=0.3)
    if lost.any() or invalid.any() or truth_m is not None:
        ax_d.legend(loc="upper right", fontsize=8)
    ax_d.set_title(title or f"{len(records)} frames, {int((~np.isnan(distance)).sum())} valid")
    tmp = path.with_name(path.name + ".partial.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path
