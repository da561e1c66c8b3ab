"""Reward shaping and the per-frame reward pipeline (real tracker + geometry on rendered episodes)."""

import math

import numpy as np
import pytest

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.regions import Region
from rgpt_ros.reward import RewardConfig, RewardPipeline, RewardShaper
from rgpt_ros.synthetic.episodes import make_episode

# -- shaping ------------------------------------------------------------------------------------


def test_config_validation_and_from_dict():
    with pytest.raises(ValueError, match="kernel_scale must be > 0"):
        RewardConfig(kernel_scale=0.0)
    with pytest.raises(ValueError, match="success_threshold must be >= 0, got -0.1"):
        RewardConfig(success_threshold=-0.1)
    with pytest.raises(ValueError, match="distance_weight must be a finite number, got 'heavy'"):
        RewardConfig.from_dict({"distance_weight": "heavy"})
    with pytest.raises(ValueError, match="finite number, got True"):
        RewardConfig(success_bonus=True)
    with pytest.raises(ValueError, match="finite number, got nan"):
        RewardConfig(progress_weight=float("nan"))
    with pytest.raises(ValueError, match=r"unknown reward option\(s\) \['gamma'\]"):
        RewardConfig.from_dict({"gamma": 0.99})
    with pytest.raises(ValueError, match="max_distance"):
        RewardConfig(max_distance=0.01, success_threshold=0.02)
    cfg = RewardConfig.from_dict({"success_bonus": 1, "kernel_weight": 2})
    assert cfg.success_bonus == 1.0 and isinstance(cfg.success_bonus, float)
    assert RewardConfig.from_dict(cfg.to_dict()) == cfg
    assert RewardConfig.from_dict(None) == RewardConfig()


def test_shaper_terms_progress_and_invalid_frames():
    cfg = RewardConfig(distance_weight=2.0, kernel_weight=1.0, kernel_scale=0.1, progress_weight=10.0,
                       success_threshold=0.05, success_bonus=5.0)
    shaper = RewardShaper(cfg)
    r0 = shaper.shape(0.3, stamp_ns=0)
    assert r0.valid and r0.progress == 0.0 and r0.reward == pytest.approx(-0.6 + math.exp(-3))
    r1 = shaper.shape(0.2, stamp_ns=33_000_000)
    assert r1.progress == pytest.approx(0.1) and r1.reward == pytest.approx(-0.4 + math.exp(-2) + 1.0)
    bad = shaper.shape(float("nan"), stamp_ns=66_000_000)
    assert not bad.valid and "not a finite" in bad.reason
    assert math.isnan(bad.distance) and math.isnan(bad.reward) and math.isnan(bad.progress)
    assert not shaper.shape(-0.01).valid and not shaper.shape("far").valid
    r3 = shaper.shape(0.04, stamp_ns=99_000_000)  # progress against the last *valid* distance
    assert r3.success and r3.progress == pytest.approx(0.16)
    assert r3.reward == pytest.approx(-0.08 + math.exp(-0.4) + 1.6 + 5.0)
    assert sum(r3.terms.values()) == pytest.approx(r3.reward)
    late = shaper.shape(0.03, stamp_ns=99_000_000 + 2_000_000_000)  # gap > progress_max_gap_s
    assert late.progress == 0.0
    shaper.reset()
    assert shaper.shape(0.5).progress == 0.0


def test_max_distance_clips():
    shaper = RewardShaper(RewardConfig(max_distance=0.3))
    assert shaper.shape(2.0).distance == 0.3 and shaper.shape(2.0).reward == pytest.approx(-0.3)

# -- pipeline -----------------------------------------------------------------------------------


_EPISODES: dict = {}


def _frames(kind: str, n_frames: int, seed: int, **kwargs) -> list:
    """Rendered episode frames, shared between tests (rendering dominates their run time)."""
    key = (kind, n_frames, seed, tuple(sorted(kwargs.items())))
    if key not in _EPISODES:
        _EPISODES[key] = list(make_episode(kind, n_frames=n_frames, seed=seed, **kwargs))
    return _EPISODES[key]


def _run(frames, **kwargs):
    pipeline = RewardPipeline(**kwargs)
    pipeline.reset(frames[0].rgbd(), frames[0].regions())
    return frames, [pipeline.step(f.rgbd()) for f in frames]


def test_pipeline_follows_approach_and_retreat():
    frames, results = _run(_frames("pause_retreat", 40, 1))
    assert all(r.valid for r in results), [r.status for r in results if not r.valid]
    d = np.array([r.distance for r in results])
    truth = np.array([f.distance for f in frames])
    assert np.abs(d - truth).max() < 0.01
    rewards = np.array([r.reward for r in results])
    k = int(np.argmin(truth))
    # distance falls while approaching and rises while retreating; the (negative-distance) reward mirrors it
    assert d[0] - d[k] > 0.1 and d[-1] - d[k] > 0.1
    assert rewards[k] - rewards[0] > 0.1 and rewards[k] - rewards[-1] > 0.1
    progress = np.array([r.progress for r in results])
    assert progress[1:12].sum() > 0.1 and progress[-12:].sum() < -0.1
    assert results[k].success and not results[0].success
    r = results[5]
    assert r.pair == ("fingertip", "cube") and r.metric == "closest" and r.status == ""
    assert set(r.centroids) == {"fingertip", "cube"} and r.centroids["fingertip"].shape == (3,)
    assert [g.id for g in r.regions] == ["fingertip", "cube"] and all(g.tracked for g in r.regions)
    assert r.image_size == (480, 640) and r.region_source == "tracker" and r.stamp_ns == frames[5].stamp_ns


def test_centroid_and_mean_nn_metrics():
    ep = _frames("straight", 36, 2, occlude=(14, 17))[:12]
    frames, centroid = _run(ep, metric="centroid")
    err = [abs(r.distance - f.centroid_distance) for r, f in zip(centroid, frames)]
    assert max(err) < 0.015
    _, closest = _run(ep)
    _, mean_nn = _run(ep, metric="mean_nn")
    assert all(m.distance > c.distance for m, c in zip(mean_nn, closest))


def test_lost_regions_give_invalid_frames_without_corrupting_progress():
    frames, results = _run(_frames("straight", 36, 2, occlude=(14, 17)))
    lost = [r for f, r in zip(frames, results) if 14 <= f.index <= 17]
    assert all(not r.valid and "lost by the tracker" in r.status and math.isnan(r.distance) for r in lost)
    after = next(i for i in range(18, 36) if results[i].valid)
    assert after <= 20
    assert results[after].progress == pytest.approx(results[13].distance - results[after].distance)


def test_invalid_inputs_are_reported():
    ep = make_episode("straight", n_frames=4, seed=0, width=320, height=240)
    f = ep[0]
    pipeline = RewardPipeline(track=False)
    r = pipeline.step(f.rgbd())
    assert not r.valid and "no regions" in r.status
    r = pipeline.step(f.rgbd(), regions=[f.regions()[0]])
    assert not r.valid and "'cube' is missing" in r.status
    no_depth = RGBDFrame(f.rgb, None, f.camera, f.stamp_ns)
    assert "no depth" in pipeline.step(no_depth, regions=f.regions()).status
    holes = f.rgbd()
    holes.depth[:] = np.nan
    r = pipeline.step(holes, regions=f.regions())
    assert not r.valid and "valid depth" in r.status and math.isnan(r.reward)
    lost = [Region(id="fingertip", box=f.boxes["fingertip"], tracked=False, score=0.1), f.regions()[1]]
    assert "lost" in pipeline.step(f.rgbd(), regions=lost).status
    ok = pipeline.step(f.rgbd(), regions=f.regions())
    assert ok.valid and ok.region_source == "external" and ok.distance == pytest.approx(f.distance, abs=0.01)
    with pytest.raises(ValueError, match="no tracker"):
        pipeline.set_regions(f.rgbd(), f.regions())
    with pytest.raises(ValueError, match="unknown distance metric 'hausdorff'"):
        RewardPipeline(metric="hausdorff")
    with pytest.raises(ValueError, match="two different region ids"):
        RewardPipeline(pair=("cube", "cube"))
    with pytest.raises(ValueError, match="gravity_every"):
        RewardPipeline(gravity_every=0)


def test_plane_fit_reuse_without_up_vector():
    ep = make_episode("straight", n_frames=60, seed=3, width=320, height=240)
    frames = [ep[i].rgbd(with_up=False) for i in range(6)]
    pipeline = RewardPipeline(gravity_every=3)
    pipeline.reset(frames[0], ep[0].regions())
    results = [pipeline.step(f) for f in frames]
    assert all(r.valid and r.gravity_from_plane for r in results)
    with_up = RewardPipeline(track=False).step(ep[5].rgbd(), regions=ep[5].regions())
    # centroids in the gravity frame agree whether up comes from the renderer or from the fitted table
    assert np.allclose(results[5].centroids["cube"], with_up.centroids["cube"], atol=0.01)


def test_prepared_frames_give_the_same_results_as_step_alone():
    """What the reward node does (prepare on colour + depth, step when the regions arrive) equals step()."""
    ep = make_episode("pause_retreat", n_frames=40, seed=6, width=320, height=240)
    frames = [ep[i].rgbd(with_up=False) for i in range(0, 40, 3)]
    regions = [ep[i].regions() for i in range(0, 40, 3)]
    direct, ahead = RewardPipeline(track=False, gravity_every=4), RewardPipeline(track=False, gravity_every=4)
    for frame, frame_regions in zip(frames, regions):
        expected = direct.step(frame, regions=frame_regions)
        got = ahead.step(frame, regions=frame_regions, prepared=ahead.prepare(frame))
        assert got.valid and expected.valid
        assert (got.distance, got.reward, got.progress) == (expected.distance, expected.reward, expected.progress)
        assert np.array_equal(got.centroids["cube"], expected.centroids["cube"])
        assert got.gravity_from_plane and expected.gravity_from_plane
    with pytest.raises(ValueError, match="prepare\\(\\) result of this frame"):
        ahead.step(frames[1], regions=regions[1], prepared=ahead.prepare(frames[0]))
    with pytest.raises(ValueError, match="no depth"):
        ahead.prepare(RGBDFrame(rgb=frames[0].rgb, depth=None, camera=frames[0].camera))
    bad_up = RGBDFrame(rgb=frames[0].rgb, depth=frames[0].depth, camera=frames[0].camera, up=np.zeros(3))
    result = ahead.step(bad_up, regions=regions[0], prepared=ahead.prepare(bad_up))
    assert not result.valid and result.status.startswith("gravity:")
