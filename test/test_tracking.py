"""Multi-region tracker on generated reaching episodes (real renderer, real OpenCV)."""

import numpy as np
import pytest

from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.synthetic.episodes import make_episode
from rgpt_ros.tracking import MultiRegionTracker, TrackerConfig, box_iou


def _run(ep, tracker=None):
    frames = list(ep)
    tracker = tracker or MultiRegionTracker()
    tracker.set_regions(frames[0].rgbd(), frames[0].regions())
    history = [tracker.update(f.rgbd()) for f in frames[1:]]
    return frames[1:], history


@pytest.mark.parametrize("kind", ["straight", "pause_retreat", "curved"])
def test_holds_fast_fingertip_and_cube(kind):
    frames, history = _run(make_episode(kind, n_frames=50, seed=1, width=320, height=240))
    for name, min_mean in (("fingertip", 0.7), ("cube", 0.8)):
        ious = [box_iou(next(r for r in regs if r.id == name).box, f.boxes[name]) for f, regs in zip(frames, history)]
        tracked = [next(r for r in regs if r.id == name).tracked for regs in history]
        assert np.mean(ious) > min_mean, (name, np.round(ious, 2))
        assert np.mean(np.array(ious) > 0.5) >= 0.95 and np.mean(tracked) >= 0.95


def test_loss_is_reported_and_recovered_after_occlusion():
    ep = make_episode("straight", n_frames=40, seed=2, width=320, height=240, occlude=(15, 18))
    frames, history = _run(ep)
    tip = [next(r for r in regs if r.id == "fingertip") for regs in history]
    by_index = {f.index: (f, t) for f, t in zip(frames, tip)}
    assert not any(by_index[i][1].tracked for i in range(15, 19))
    assert all(by_index[i][1].extra["lost_frames"] >= 1 for i in range(15, 19))
    recovered = [i for i in range(19, 40) if by_index[i][1].tracked]
    assert recovered and recovered[0] <= 21
    assert all(box_iou(by_index[i][1].box, by_index[i][0].boxes["fingertip"]) > 0.5 for i in range(22, 40))


def test_lost_on_unrelated_image_and_reinitialisable():
    ep = make_episode("straight", n_frames=60, seed=0, width=320, height=240)
    f0 = ep[0]
    tracker = MultiRegionTracker()
    tracker.set_regions(f0.rgb, f0.regions())
    noise = np.random.default_rng(0).integers(0, 255, f0.rgb.shape, dtype=np.uint8)
    regs = tracker.update(noise)
    assert not any(r.tracked for r in regs) and all(r.score < 0.5 for r in regs)
    regs = tracker.set_regions(ep[1].rgb, [ep[1].regions()[0]])  # re-prompt only the fingertip
    assert {r.id: r.tracked for r in regs} == {"fingertip": True, "cube": False}
    tracker.reset(["cube"])
    assert tracker.ids == ["fingertip"]
    assert tracker.update(ep[2].rgb)[0].tracked
    with pytest.raises(KeyError, match="unknown region"):
        tracker.reset(["nope"])
    with pytest.raises(ValueError, match="image size changed"):
        tracker.update(np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(RegionError, match="too small"):
        tracker.set_regions(f0.rgb, [Region(id="dot", box=(10, 10, 11, 11))])
    tracker.reset()
    assert tracker.ids == [] and tracker.regions() == []


def test_box_iou_and_config_validation():
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert box_iou((0, 0, 10, 10), None) == 0.0
    with pytest.raises(ValueError, match="min_score"):
        TrackerConfig(min_score=2.0)
    with pytest.raises(ValueError, match="unknown tracker option"):
        TrackerConfig.from_dict({"speed": 3})
    assert TrackerConfig.from_dict({"scales": [1.0], "use_flow": False}).scales == (1.0,)


def test_template_only_mode_also_tracks():
    frames, history = _run(make_episode("straight", n_frames=30, seed=4, width=320, height=240),
                           MultiRegionTracker(TrackerConfig(use_flow=False)))
    ious = [box_iou(regs[0].box, f.boxes["fingertip"]) for f, regs in zip(frames, history)]
    assert np.mean(ious) > 0.65


def test_small_median_and_colour_signature_match_numpy():
    from rgpt_ros.tracking.appearance import chromaticity
    from rgpt_ros.geometry.stats import median  # what median_flow uses

    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 40):
        values = rng.normal(size=(n, 2)).astype(np.float32)
        assert np.array_equal(median(values), np.median(values, axis=0))
        assert median(values[:, 0]) == np.median(values[:, 0])
    rgb = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    box = (10.0, 5.0, 50.0, 45.0)
    core = rgb[15:35, 20:40].reshape(-1, 3).astype(np.float64).mean(axis=0)  # the box's centre half
    assert np.allclose(chromaticity(rgb, box), core[:2] / core.sum(), rtol=0, atol=1e-12)
