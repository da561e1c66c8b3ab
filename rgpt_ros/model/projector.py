"""The ``mlp_downsample`` image projector: 2x2 token merge then LayerNorm-Linear-GELU-Linear.

Weight names match ``mm_projector/`` of the reference checkpoint: ``layers.1`` (LayerNorm),
``layers.2`` and ``layers.4`` (Linears); ``layers.0`` is the parameter-free merge and ``layers.3`` the GELU.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def merge_2x2_tokens(tokens: torch.Tensor, grid: int) -> torch.Tensor:
    """(N, grid*grid, C) row-major tokens -> (N, ceil(grid/2)**2, 4C), the reference's token order.

    An odd grid is padded with one zero row and column. Each 2x2 cell is concatenated as
    (r,c),(r,c+1),(r+1,c),(r+1,c+1); merged tokens come out column-block-major
    (index = col_block * rows + row_block).
    """
    n, c = tokens.shape[0], tokens.shape[-1]
    x = tokens.reshape(n, grid, grid, c)  # raises for a token count that is not grid * grid
    pad = grid % 2
    if pad:
        x = F.pad(x, (0, 0, 0, 1, 0, 1))  # one zero column, one zero row (at the end)
    half = (grid + pad) // 2
    x = x.reshape(n, grid + pad, half, 2 * c)      # pairs along columns
    x = x.permute(0, 2, 1, 3)                       # (n, col_block, row, 2c)
    x = x.reshape(n, half, half, 4 * c)             # pairs along rows
    return x.reshape(n, half * half, 4 * c)


class DownSampleBlock(nn.Module):
    """Parameter-free 2x2 merge (``layers.0`` of the reference projector) of a grid x grid token map."""

    def __init__(self, grid: int = 27) -> None:
        super().__init__()
        self.grid = grid

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return merge_2x2_tokens(tokens, self.grid)


class MultimodalProjector(nn.Module):
    """``mlp_downsample``: (N, 729, 1152) vision tokens -> (N, 196, hidden) LLM embeddings."""

    def __init__(self, vision_hidden: int, llm_hidden: int, grid: int = 27) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            DownSampleBlock(grid),
            nn.LayerNorm(4 * vision_hidden),
            nn.Linear(4 * vision_hidden, llm_hidden),
            nn.GELU(),
            nn.Linear(llm_hidden, llm_hidden),
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.layers(tokens)
