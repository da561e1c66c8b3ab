"""Shared fixtures: a small synthetic RGB-D bench (rendered once per session)."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def synthetic_bench(tmp_path_factory) -> Path:
    """Path to a bench JSON (3 noisy 320x240 scenes, exact truth) with its images/ and depth/ folders."""
    from rgpt_ros.synthetic.bench_scenes import write_synthetic_bench

    return write_synthetic_bench(tmp_path_factory.mktemp("bench"), n_scenes=3, seed=11, width=320, height=240)
