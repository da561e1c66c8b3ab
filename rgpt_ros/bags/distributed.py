"""Annotating thousands of bags on an existing Ray cluster (one Ray task per bag).

Ray does the scheduling, retries of lost workers and data locality; this module only submits
:func:`rgpt_ros.bags.batch.run_job` as tasks, keeps a bounded number in flight and collects one
:class:`BagResult` per bag. Paths must be visible to every node (shared filesystem).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from rgpt_ros.bags.annotate import AnnotationOptions
from rgpt_ros.bags.batch import BagJob, BagResult, plan_jobs, run_job


def annotate_with_ray(bags: Sequence[str | Path], out_dir: str | Path, options: Optional[AnnotationOptions] = None, *,
                      csv_dir: Optional[str | Path] = None, plot_dir: Optional[str | Path] = None,
                      address: Optional[str] = None, num_cpus_per_task: float = 1.0,
                      max_in_flight: Optional[int] = None, max_retries: int = 1,
                      on_result: Optional[Callable[[BagResult], None]] = None,
                      ray_init_kwargs: Optional[dict[str, Any]] = None) -> list[BagResult]:
    """Annotate ``bags`` into ``out_dir/<bag name>`` with Ray tasks; results in input order.

    Connects to a running cluster (``address="auto"`` or ``ray://host:10001``) unless Ray is already
    initialised in this process. A bag that fails (bad data, or a worker that died after
    ``max_retries`` retries) yields ``BagResult(ok=False, error=...)``; the others go on.
    """
    import ray

    options = options or AnnotationOptions()
    options.progress = False
    jobs: list[BagJob] = plan_jobs(list(bags), out_dir, csv_dir, plot_dir, directories=True)
    if not ray.is_initialized():
        ray.init(address=address, **(ray_init_kwargs or {}))
    task = ray.remote(num_cpus=num_cpus_per_task, max_retries=max_retries)(run_job)
    limit = max_in_flight or max(2, int(2 * ray.cluster_resources().get("CPU", 1) / num_cpus_per_task))
    options_ref = ray.put(options)
    pending: dict[Any, int] = {}
    results: dict[int, BagResult] = {}
    next_job = 0
    while next_job < len(jobs) or pending:
        while next_job < len(jobs) and len(pending) < limit:
            pending[task.remote(jobs[next_job], options_ref)] = next_job
            next_job += 1
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            index = pending.pop(ref)
            try:
                results[index] = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - worker crash, OOM kill, node loss after retries
                results[index] = BagResult(bag=jobs[index].bag, ok=False, error=f"ray task failed: {exc}",
                                           error_type=type(exc).__name__)
            if on_result:
                on_result(results[index])
    return [results[i] for i in range(len(jobs))]
