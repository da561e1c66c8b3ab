"""Annotating many bags: output naming, one picklable job function, and a local process pool.

The same :func:`run_job` runs in a ``ProcessPoolExecutor`` (one machine, ``--workers N``) and as a
Ray task (:mod:`rgpt_ros.bags.distributed`, a cluster); failures are reported per bag, never fatal
to the batch.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from rgpt_ros.bags.annotate import AnnotationOptions, annotate_bag


@dataclass
class BagJob:
    """One bag to annotate and where its outputs go."""

    bag: str
    out: str
    csv: Optional[str] = None
    plot: Optional[str] = None


@dataclass
class BagResult:
    """Outcome of one job: ``summary`` (AnnotationSummary.to_dict()) when ok, else ``error``."""

    bag: str
    ok: bool
    summary: Optional[dict[str, Any]] = None
    error: Optional[str] = None
    error_type: Optional[str] = None


def bag_stem(bag: str | Path) -> str:
    """Name of a bag without storage suffix (``run1.mcap`` -> ``run1``, ``episodes/ep7/`` -> ``ep7``)."""
    path = Path(bag)
    return path.stem if path.suffix in (".mcap", ".db3") else path.name


def plan_jobs(bags: Sequence[str | Path], out: str | Path, csv: Optional[str | Path] = None,
              plot: Optional[str | Path] = None, *, directories: Optional[bool] = None) -> list[BagJob]:
    """Where each bag's outputs go.

    ``directories`` False (default for one bag): ``out``/``csv``/``plot`` are the files themselves.
    True (default for several): they are directories holding ``<bag name>``, ``<bag name>.csv``, ``.png``.
    """
    if directories is None:
        directories = len(bags) != 1
    if not directories:
        if len(bags) != 1:
            raise ValueError("several bags need output directories")
        return [BagJob(str(bags[0]), str(out), str(csv) if csv else None, str(plot) if plot else None)]
    stems = [bag_stem(b) for b in bags]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise ValueError(f"several input bags share the name(s) {duplicates}; their outputs would collide")
    return [BagJob(str(b), str(Path(out) / s), str(Path(csv) / f"{s}.csv") if csv else None,
                   str(Path(plot) / f"{s}.png") if plot else None) for b, s in zip(bags, stems)]


def run_job(job: BagJob, options: AnnotationOptions) -> BagResult:
    """Annotate one bag; any error becomes a failed result naming the bag (the batch goes on)."""
    options = dataclasses.replace(options, csv_path=Path(job.csv) if job.csv else None,
                                  plot_path=Path(job.plot) if job.plot else None)
    try:
        summary = annotate_bag(job.bag, job.out, options)
    except Exception as exc:  # noqa: BLE001 - one broken episode must not stop thousands of others
        text = str(exc) if isinstance(exc, (ValueError, OSError)) else f"{type(exc).__name__}: {exc}"
        return BagResult(bag=job.bag, ok=False, error=text, error_type=type(exc).__name__)
    return BagResult(bag=job.bag, ok=True, summary=summary.to_dict())


def annotate_many(jobs: Sequence[BagJob], options: AnnotationOptions, workers: int = 1,
                  on_result: Optional[Callable[[BagResult], None]] = None) -> list[BagResult]:
    """Run ``jobs`` on ``workers`` processes (1 = in this process); results in job order."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    results: dict[int, BagResult] = {}
    if workers == 1 or len(jobs) == 1:
        for i, job in enumerate(jobs):
            results[i] = run_job(job, options)
            if on_result:
                on_result(results[i])
    else:
        quiet = dataclasses.replace(options, progress=False)
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_job, job, quiet): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_result:
                    on_result(results[futures[future]])
    return [results[i] for i in range(len(jobs))]
