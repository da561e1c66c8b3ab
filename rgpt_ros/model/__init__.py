"""SpatialRGPT in PyTorch: config, SigLIP + region extractor + projector + Llama, checkpoint I/O, prompts, generation.

Main entry points: :class:`SpatialRGPTForCausalLM` (``from_pretrained`` / ``save_pretrained``),
:class:`SpatialRGPTConfig`, :class:`SpatialRGPTVisionEncoder` (the exportable vision half;
:func:`load_vision_encoder` loads it alone),
:func:`depth_to_model_image`, and :func:`rgpt_ros.model.testing.write_tiny_checkpoint` for tests.
"""

from rgpt_ros.model.checkpoint import CheckpointError
from rgpt_ros.model.configuration import ConfigError, SpatialRGPTConfig
from rgpt_ros.model.modeling import FrameEncoding, SpatialRGPTForCausalLM, load_vision_encoder
from rgpt_ros.model.preprocess import depth_to_model_image
from rgpt_ros.model.vision import SpatialRGPTVisionEncoder

__all__ = ["CheckpointError", "ConfigError", "FrameEncoding", "SpatialRGPTConfig", "SpatialRGPTForCausalLM",
           "SpatialRGPTVisionEncoder", "depth_to_model_image", "load_vision_encoder"]
