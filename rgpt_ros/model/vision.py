"""The vision half of SpatialRGPT as one static-shape module (SigLIP + region extractor + projector).

``SpatialRGPTVisionEncoder`` is what the main model calls and what the acceleration code exports to
ONNX / TensorRT: no data-dependent Python control flow in ``forward``.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from transformers import SiglipVisionConfig, SiglipVisionModel

from rgpt_ros.model.projector import MultimodalProjector
from rgpt_ros.model.region_extractor import RegionExtractor


def layers_to_run(num_layers: int, select_layer: int) -> int:
    """Encoder layers needed for ``hidden_states[select_layer]`` (index 0 = embeddings output)."""
    index = select_layer if select_layer >= 0 else num_layers + 1 + select_layer
    if not 0 <= index <= num_layers:
        raise ValueError(f"select layer {select_layer} is outside a {num_layers}-layer tower")
    return index


class SpatialRGPTVisionEncoder(nn.Module):
    """RGB image + depth image + region masks -> image tokens and region embeddings for the LLM.

    forward(pixel_values (B,3,S,S), depth_pixel_values (B,3,S,S), masks (B,R,S,S) float)
      -> image_embeds (B, 196, H), rgb_region_embeds (B, R, H), depth_region_embeds (B, R, H)
    with S = 384 and H the LLM hidden size for the published model.
    """

    def __init__(self, vision_config: SiglipVisionConfig, llm_hidden: int, *, select_layer: int = -2,
                 enable_region: bool = True) -> None:
        super().__init__()
        self.vision_tower = SiglipVisionModel(vision_config)
        self.feature_layers = layers_to_run(vision_config.num_hidden_layers, select_layer)
        self.grid = vision_config.image_size // vision_config.patch_size
        self.mm_projector = MultimodalProjector(vision_config.hidden_size, llm_hidden, self.grid)
        self.region_extractor: Optional[RegionExtractor] = (
            RegionExtractor(vision_config.hidden_size, llm_hidden, self.grid, vision_config.image_size)
            if enable_region else None)

    def features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """SigLIP ``hidden_states[select_layer]`` (B, 729, C), running only the layers it needs."""
        tower = self.vision_tower
        hidden = tower.embeddings(pixel_values.to(tower.embeddings.patch_embedding.weight.dtype))
        for layer in tower.encoder.layers[: self.feature_layers]:
            hidden = layer(hidden, None)
        return hidden

    def encode_image(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """(image_embeds (B,196,H), refined hres tokens (B,L*16,C) or None without a region extractor)."""
        return self._image_from_tokens(self.features(pixel_values))

    def _image_from_tokens(self, tokens: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        if self.region_extractor is None:
            return self.mm_projector(tokens), None
        hres, lres = self.region_extractor.refine(tokens)
        return self.mm_projector(lres), hres

    def forward(self, pixel_values: torch.Tensor, depth_pixel_values: torch.Tensor,
                masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.region_extractor is None:
            raise RuntimeError("this checkpoint has no region extractor (enable_region is false)")
        batch = pixel_values.shape[0]
        tokens = self.features(torch.cat([pixel_values, depth_pixel_values], dim=0))  # one tower pass for both
        rgb_tokens, depth_tokens = tokens[:batch], tokens[batch:]
        image_embeds, hres = self._image_from_tokens(rgb_tokens)
        rgb_regions = self.region_extractor.rgb_regions(hres, masks)
        depth_regions = self.region_extractor.depth_regions(depth_tokens, masks)
        return image_embeds, rgb_regions, depth_regions

    def encode_rgb_only(self, pixel_values: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Image tokens and RGB region embeddings when the checkpoint has enable_depth false."""
        image_embeds, hres = self.encode_image(pixel_values)
        if self.region_extractor is None:
            raise RuntimeError("this checkpoint has no region extractor (enable_region is false)")
        return image_embeds, self.region_extractor.rgb_regions(hres, masks)
