"""The SpatialRGPT vision encoder behind an accelerated runner, callable like the module itself."""

from __future__ import annotations

from typing import Sequence, Union

import torch
from torch import nn

from rgpt_ros.accel.parts import vision_encoder_part
from rgpt_ros.accel.runner import Runner
from rgpt_ros.accel.select import select_runner


class AcceleratedVisionEncoder:
    """``encoder(pixel_values, depth_pixel_values, masks)`` through one static engine for up to ``max_regions``.

    Fewer regions are padded with empty masks (they pool to zeros and are dropped from the outputs), so one
    engine serves every question; more than ``max_regions`` falls back to the eager encoder (logged once).
    Outputs come back on the encoder's device and dtype.
    """

    def __init__(self, encoder: nn.Module, *, max_regions: int = 8, batch: int = 1,
                 preference: Union[str, Sequence[str]] = "auto", **options):
        self.encoder = encoder
        self.part = vision_encoder_part(encoder, num_regions=max_regions, batch=batch)
        self.runner: Runner = select_runner(self.part, preference, **options)
        self.max_regions = max_regions
        self.batch = batch

    @property
    def provider(self) -> str:
        return self.runner.provider

    def __call__(self, pixel_values: torch.Tensor, depth_pixel_values: torch.Tensor,
                 masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch, regions = masks.shape[:2]
        if regions > self.max_regions or batch != self.batch:
            with torch.inference_mode():
                return self.encoder(pixel_values, depth_pixel_values, masks)
        if regions < self.max_regions:
            pad = masks.new_zeros((batch, self.max_regions - regions) + tuple(masks.shape[2:]))
            masks = torch.cat([masks, pad], dim=1)
        out = self.runner.run({"pixel_values": pixel_values, "depth_pixel_values": depth_pixel_values,
                               "masks": masks})
        param = next(self.encoder.parameters())
        image, rgb, depth = (out[name].to(param.device, param.dtype) for name in self.part.output_names)
        return image, rgb[:, :regions], depth[:, :regions]
