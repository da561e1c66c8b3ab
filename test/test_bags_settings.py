"""Annotation settings read from the reward node's parameter file (same names, defaults and checks)."""

from pathlib import Path

import pytest
import yaml

from rgpt_ros.bags.settings import AnnotationSettings
from rgpt_ros.ros.parameters import params_of

CONFIG = Path(__file__).resolve().parent.parent / "config" / "reward.yaml"


def test_defaults_are_the_reward_nodes():
    settings = AnnotationSettings.from_mapping(None)
    params = params_of("reward")
    assert settings.pair == tuple(params["pair"].default) and settings.metric == params["metric"].default
    assert settings.sync_slop_s == params["sync_slop_s"].default
    assert settings.depth_scale == params["depth_scale"].default and settings.up_vector is None


@pytest.mark.skipif(not CONFIG.exists(), reason="config/reward.yaml not generated yet")
def test_project_config_file_loads():
    settings = AnnotationSettings.from_mapping(yaml.safe_load(CONFIG.read_text()))
    assert settings.metric in ("closest", "centroid", "mean_nn") and len(settings.pair) == 2


def test_ros_parameter_file_and_flat_forms():
    ros_form = {"rgpt_reward": {"ros__parameters": {"metric": "centroid", "pair": ["tip", "mug"],
                                                    "reward.success_threshold": 0.03, "up_vector": [0.0, -1.0, 0.0],
                                                    "sync_slop_s": 0.01}},
                "rgpt_tracker": {"ros__parameters": {"min_confidence": 0.4}},
                "rgpt_spatial_qa": {"ros__parameters": {"backend": "spatialrgpt"}}}
    s = AnnotationSettings.from_mapping(ros_form)
    assert (s.metric, s.pair, s.reward.success_threshold, s.up_vector, s.sync_slop_s) == (
        "centroid", ("tip", "mug"), 0.03, [0.0, -1.0, 0.0], 0.01)
    assert s.tracker.min_score == 0.4
    flat = AnnotationSettings.from_mapping({"metric": "mean_nn", "reward": {"progress_weight": 2.0}})
    assert flat.metric == "mean_nn" and flat.reward.progress_weight == 2.0


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match=r"unknown reward parameter\(s\) \['metrik'\]"):
        AnnotationSettings.from_mapping({"metrik": "closest"})
    with pytest.raises(ValueError, match="'metric' = 'far'; choose one of"):
        AnnotationSettings.from_mapping({"metric": "far"})
    with pytest.raises(ValueError, match="sync_slop_s"):
        AnnotationSettings.from_mapping({"sync_slop_s": -1.0})
    with pytest.raises(ValueError, match="kernel_scale"):
        AnnotationSettings.from_mapping({"reward": {"kernel_scale": 0.0}})
