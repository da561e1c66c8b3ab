"""Annotating several bags on a small local Ray cluster started by the test (the distributed path)."""

from __future__ import annotations

import os

import pytest

from rgpt_ros.bags import AnnotationOptions, write_episode_bag
from rgpt_ros.bags.reader import storage_files
from rgpt_ros.synthetic.episodes import make_episode

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster():
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    except Exception as exc:  # noqa: BLE001 - a sandbox without shared memory / sockets
        if os.environ.get("RGPT_REQUIRE_RAY"):
            raise
        pytest.skip(f"ray cannot start a local cluster here: {exc}")
    yield
    ray.shutdown()


def test_annotate_with_ray_reports_each_bag(tmp_path, ray_cluster):
    from rgpt_ros.bags.distributed import annotate_with_ray

    bags = []
    for i, storage in enumerate(("mcap", "sqlite3")):
        episode = make_episode("straight", n_frames=20, seed=10 + i, width=240, height=180)
        bags.append(write_episode_bag(episode, tmp_path / "in" / f"ep{i}", storage=storage, regions_topic="/regions"))
    broken = tmp_path / "in" / "ep_broken.mcap"
    (good,) = storage_files(bags[0])
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    bags.append(broken)

    seen = []
    results = annotate_with_ray(bags, tmp_path / "out", AnnotationOptions(), csv_dir=tmp_path / "csv",
                                on_result=seen.append)
    assert [r.bag for r in results] == [str(b) for b in bags] and len(seen) == 3
    ok, bad = results[:2], results[2]
    assert all(r.ok for r in ok), [r.error for r in ok]
    assert [r.summary["frames"] for r in ok] == [20, 20]
    assert all(r.summary["valid_fraction"] > 0.9 for r in ok)
    assert not bad.ok and bad.error_type == "CorruptBagError" and str(broken) in bad.error
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ep0", "ep1"]
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["ep0.csv", "ep1.csv"]
