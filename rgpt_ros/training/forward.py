"""The differentiable training forward pass of SpatialRGPT on a collated batch.

Uses the model's own modules: ``model.vision`` (SigLIP + region extractor + projector, one call for RGB and
depth) and ``model.llm``. Image embeddings go to the ``IMAGE_TOKEN_INDEX`` positions in row-major order,
the k-th ``<mask>`` / ``<depth>`` token of a sample takes that sample's k-th region embedding -- the
same binding as ``SpatialRGPTForCausalLM.prompt_embeds`` at inference.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rgpt_ros.model.prompt import IMAGE_TOKEN_INDEX
from rgpt_ros.training.dataset import IGNORE_INDEX


class ForwardError(ValueError):
    """A batch whose tokens and vision inputs disagree."""


def causal_lm(llm: nn.Module) -> nn.Module:
    """The LlamaForCausalLM inside ``llm`` (unwrapping a peft model)."""
    return llm.get_base_model() if hasattr(llm, "get_base_model") else llm


def _scatter(embeds: torch.Tensor, positions: torch.Tensor, values: torch.Tensor, what: str) -> torch.Tensor:
    if int(positions.sum()) != values.shape[0]:
        raise ForwardError(f"{int(positions.sum())} {what} position(s) but {values.shape[0]} embedding(s)")
    if values.shape[0] == 0:
        return embeds
    return embeds.masked_scatter(positions[..., None], values.to(embeds.dtype))


def inputs_embeds(model, batch: dict[str, Any]) -> torch.Tensor:
    """(B, T, H) LLM input embeddings: text, image and region embeddings spliced in."""
    device = model.device
    ids = batch["input_ids"].to(device)
    pixels = batch["pixel_values"].to(device, model.dtype)
    masks = batch["masks"].to(device, torch.float32)
    config = model.config
    depth_regions = None
    if config.enable_depth:
        if batch.get("depth_pixel_values") is None:
            raise ForwardError("the model uses depth but the batch has no depth_pixel_values")
        image, rgb_regions, depth_regions = model.vision(pixels, batch["depth_pixel_values"].to(device, model.dtype),
                                                         masks)
    elif config.enable_region:
        image, rgb_regions = model.vision.encode_rgb_only(pixels, masks)
    else:
        image, _ = model.vision.encode_image(pixels)
        rgb_regions = image.new_zeros(image.shape[0], 0, image.shape[-1])
    embeds = model.llm.get_input_embeddings()(ids.clamp(min=0))
    embeds = _scatter(embeds, ids == IMAGE_TOKEN_INDEX, image.reshape(-1, image.shape[-1]), "image")
    if config.enable_region:
        slots = torch.arange(rgb_regions.shape[1], device=device)[None]
        rgb_valid = slots < batch["mask_counts"].to(device)[:, None]
        embeds = _scatter(embeds, ids == model.mask_token_id, rgb_regions[rgb_valid], "<mask>")
        if depth_regions is not None:
            depth_valid = slots < batch["depth_counts"].to(device)[:, None]
            embeds = _scatter(embeds, ids == model.depth_token_id, depth_regions[depth_valid], "<depth>")
    return embeds


def label_token_count(batch: dict[str, Any]) -> int:
    """Tokens that carry a loss (labels shifted by one, as the causal loss sees them)."""
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


def training_loss(model, batch: dict[str, Any]) -> tuple[torch.Tensor, int]:
    """(sum of the next-token cross-entropy over answer tokens, number of those tokens).

    Logits are computed only where a label exists (saves the (B, T, vocab) tensor for long prompts).
    """
    device = model.device
    embeds = inputs_embeds(model, batch)
    attention = batch.get("attention_mask")
    lm = causal_lm(model.llm)
    hidden = lm.model(inputs_embeds=embeds, attention_mask=attention.to(device) if attention is not None else None,
                      position_ids=batch["position_ids"].to(device), use_cache=False).last_hidden_state
    targets = batch["labels"][:, 1:].to(device)
    keep = targets != IGNORE_INDEX
    logits = lm.lm_head(hidden[:, :-1][keep])
    loss = F.cross_entropy(logits.float(), targets[keep], reduction="sum")
    return loss, int(keep.sum())


@torch.no_grad()
def batch_logits(model, batch: dict[str, Any]) -> torch.Tensor:
    """(B, T, vocab) logits of a collated batch (evaluation and checkpoint comparisons)."""
    device = model.device
    attention = batch.get("attention_mask")
    out = causal_lm(model.llm)(inputs_embeds=inputs_embeds(model, batch),
                               attention_mask=attention.to(device) if attention is not None else None,
                               position_ids=batch["position_ids"].to(device), use_cache=False)
    return out.logits


class TrainingStep(nn.Module):
    """``forward(batch) -> (loss_sum, n_tokens)``: the unit DistributedDataParallel wraps."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, int]:
        return training_loss(self.model, batch)
