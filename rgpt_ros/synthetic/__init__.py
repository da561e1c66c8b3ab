"""Synthetic RGB-D data with exact ground truth: a numpy ray-caster, sensor noise, reaching episodes.

Bench scenes (``bench_scenes``) are built on the same renderer.
"""

from rgpt_ros.synthetic.noise import add_image_noise, add_sensor_noise, depth_to_mm_uint16
from rgpt_ros.synthetic.render import (CameraPose, ObjectTruth, RenderedFrame, Scene, d435_intrinsics,
                                       render)
from rgpt_ros.synthetic.shapes import Box, Capsule, Plane, Sphere
from rgpt_ros.synthetic.textures import Texture, checker_texture, noise_texture, wood_texture

__all__ = ["Box", "Capsule", "CameraPose", "ObjectTruth", "Plane", "RenderedFrame", "Scene", "Sphere", "Texture",
           "add_image_noise", "add_sensor_noise", "checker_texture", "d435_intrinsics", "depth_to_mm_uint16",
           "noise_texture", "render", "wood_texture"]
