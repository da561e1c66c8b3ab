"""Region extractor (reference type ``regiongpt``): feature refinement, mask pooling, RGB/depth connectors.

Weight names match ``region_extractor/`` of the reference checkpoint:
``feature_refinement_module.0`` (ConvTranspose2d), ``.1`` (LayerNorm2d), ``.3`` (ConvTranspose2d),
``rgb_projector``, ``depth_projector``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MASK_POOL_EPS = 1e-8


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel axis of an (N, C, H, W) map, per pixel."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


def tokens_to_map(tokens: torch.Tensor, grid: int) -> torch.Tensor:
    """(N, grid*grid, C) row-major tokens -> (N, C, grid, grid)."""
    n, _, c = tokens.shape
    return tokens.transpose(1, 2).reshape(n, c, grid, grid)


def map_to_tokens(feature_map: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, H*W, C) row-major tokens."""
    return feature_map.flatten(2).transpose(1, 2)


def mask_pool(features: torch.Tensor, masks: torch.Tensor, grid: int, image_size: int) -> torch.Tensor:
    """Soft-mask average of feature tokens, as the reference computes it.

    features: (B, grid*grid, C) row-major tokens; masks: (B, R, image_size, image_size) float.
    Masks are resized bilinearly (align_corners=False, scale factor grid/image_size, which equals the
    reference's sqrt(L/(h*w))) to the grid, cast to the feature dtype, and each region feature is
    sum(mask * feat) / (sum(mask) + 1e-8). Empty masks give zeros. Returns (B, R, C).
    """
    b, r = masks.shape[0], masks.shape[1]
    if masks.shape[1] == 0:  # shape-static branch (no regions)
        return features.new_zeros(b, 0, features.shape[-1])
    small = F.interpolate(masks.float(), scale_factor=grid / image_size, mode="bilinear", align_corners=False)
    small = small.reshape(b, r, grid * grid).to(features.dtype)
    denominator = small.sum(dim=-1, keepdim=True) + MASK_POOL_EPS
    return torch.einsum("blc,brl->brc", features, small / denominator)


class RegionExtractor(nn.Module):
    """deconv2x refinement (27x27 -> 108x108), its 27x27 average (global tokens), region connectors."""

    def __init__(self, vision_hidden: int, llm_hidden: int, grid: int = 27, image_size: int = 384) -> None:
        super().__init__()
        self.grid = grid
        self.image_size = image_size
        self.feature_refinement_module = nn.Sequential(
            nn.ConvTranspose2d(vision_hidden, vision_hidden, kernel_size=2, stride=2),
            LayerNorm2d(vision_hidden),
            nn.GELU(),
            nn.ConvTranspose2d(vision_hidden, vision_hidden, kernel_size=2, stride=2),
            nn.GELU(),
        )
        self.rgb_projector = nn.Linear(vision_hidden, llm_hidden)
        self.depth_projector = nn.Linear(vision_hidden, llm_hidden)

    def refine(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, grid*grid, C) -> (hres (N, 16*grid*grid, C), lres (N, grid*grid, C)) token tensors."""
        hres = self.feature_refinement_module(tokens_to_map(tokens, self.grid))
        lres = F.adaptive_avg_pool2d(hres, self.grid)
        return map_to_tokens(hres), map_to_tokens(lres)

    def rgb_regions(self, hres_tokens: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """(B, R, llm_hidden) RGB region embeddings pooled from the refined 108x108 features."""
        return self.rgb_projector(mask_pool(hres_tokens, masks, 4 * self.grid, self.image_size))

    def depth_regions(self, depth_tokens: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """(B, R, llm_hidden) depth region embeddings pooled from raw 27x27 depth-image features."""
        return self.depth_projector(mask_pool(depth_tokens, masks, self.grid, self.image_size))
