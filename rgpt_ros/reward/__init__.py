"""Dense rewards from region distances: shaping and the per-frame pipeline (tracker + geometry + shaping)."""

from rgpt_ros.reward.pipeline import RewardPipeline, RewardResult
from rgpt_ros.reward.shaping import RewardConfig, RewardShaper, ShapedReward

__all__ = ["RewardConfig", "RewardPipeline", "RewardResult", "RewardShaper", "ShapedReward"]
