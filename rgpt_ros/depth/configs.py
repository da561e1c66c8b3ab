"""Depth Anything architectures by name, and random-weight checkpoints for tests and benchmarks.

Real checkpoints are loaded with :func:`rgpt_ros.depth.loading.load_depth_model`; these configs only
reproduce their *shapes* (DINOv2 ViT-S/B/L backbone + DPT neck) so tests and benches need no download.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Union

import torch

# Shapes of the Depth Anything V2 releases (V1 differs only in which backbone layers feed the neck).
_VARIANTS: dict[str, dict] = {
    "tiny": dict(hidden=32, layers=4, heads=2, out=[1, 2, 3, 4], neck=[8, 16, 32, 32], fusion=16, head=8),
    "small": dict(hidden=384, layers=12, heads=6, out=[3, 6, 9, 12], neck=[48, 96, 192, 384], fusion=64, head=32),
    "base": dict(hidden=768, layers=12, heads=12, out=[3, 6, 9, 12], neck=[96, 192, 384, 768], fusion=128, head=32),
    "large": dict(hidden=1024, layers=24, heads=16, out=[5, 12, 18, 24], neck=[256, 512, 1024, 1024], fusion=256,
                  head=32),
}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def depth_anything_variants() -> tuple[str, ...]:
    """Names accepted by :func:`depth_anything_config`."""
    return tuple(_VARIANTS)


def depth_anything_config(variant: str = "small", *, metric: bool = False, max_depth: int = 20,
                          image_size: int = 518):
    """A ``DepthAnythingConfig`` with the shapes of Depth Anything V2 ``variant`` (tiny/small/base/large)."""
    from transformers import DepthAnythingConfig, Dinov2Config

    if variant not in _VARIANTS:
        raise ValueError(f"unknown Depth Anything variant {variant!r}; expected one of {sorted(_VARIANTS)}")
    v = _VARIANTS[variant]
    backbone = Dinov2Config(image_size=image_size, patch_size=14, hidden_size=v["hidden"],
                            num_hidden_layers=v["layers"], num_attention_heads=v["heads"], mlp_ratio=4,
                            out_indices=list(v["out"]), reshape_hidden_states=False)
    return DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=v["hidden"],
                               neck_hidden_sizes=list(v["neck"]), fusion_hidden_size=v["fusion"],
                               head_hidden_size=v["head"],
                               depth_estimation_type="metric" if metric else "relative",
                               max_depth=int(max_depth) if metric else 1)


def depth_image_processor(input_size: int = 518):
    """The image processor Depth Anything checkpoints ship (keep aspect, multiple of 14, bicubic, ImageNet norm)."""
    from transformers.models.dpt import DPTImageProcessorPil

    return DPTImageProcessorPil(size={"height": input_size, "width": input_size}, keep_aspect_ratio=True,
                                ensure_multiple_of=14, resample=3, do_rescale=True, do_normalize=True,
                                image_mean=list(IMAGENET_MEAN), image_std=list(IMAGENET_STD))


def random_depth_model(variant: str = "tiny", *, metric: bool = False, max_depth: int = 20, seed: int = 0):
    """A ``DepthAnythingForDepthEstimation`` with seeded random weights (eval mode).

    Weights are drawn with fan-in scaling (not the library's tiny init) so the depth map varies over the
    image and through the metric sigmoid: parity checks on a constant output would prove nothing.
    """
    from transformers import DepthAnythingForDepthEstimation

    torch.manual_seed(seed)
    model = DepthAnythingForDepthEstimation(depth_anything_config(variant, metric=metric, max_depth=max_depth))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() > 1:
                param.copy_(torch.randn(param.shape, generator=generator) / math.sqrt(param[0].numel()))
            elif name.endswith("bias"):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.1)
    return model.eval()


def write_random_depth_checkpoint(path: Union[str, Path], variant: str = "tiny", *, metric: bool = False,
                                  max_depth: int = 20, seed: int = 0) -> Path:
    """Save a random-weight checkpoint folder (config, safetensors, preprocessor_config.json) like the hub's."""
    path = Path(path)
    random_depth_model(variant, metric=metric, max_depth=max_depth, seed=seed).save_pretrained(path)
    depth_image_processor().save_pretrained(path)
    return path
