"""Batches for :func:`rgpt_ros.training.forward.training_loss`: padded or packed token rows plus vision inputs.

The single ``IMAGE_TOKEN_INDEX`` of each sample is expanded here to the model's image-token count, so
sequence lengths, padding and packing are final before the model runs; the forward pass then writes the
image embeddings into exactly those positions, in sample order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch

from rgpt_ros.model.configuration import SpatialRGPTConfig
from rgpt_ros.model.prompt import IMAGE_TOKEN_INDEX
from rgpt_ros.training.dataset import IGNORE_INDEX


def image_token_count(config: SpatialRGPTConfig) -> int:
    """Image embeddings per image: the projector merges 2x2 cells of the (odd-padded) grid (196 for 27x27)."""
    half = (config.grid_size + 1) // 2
    return half * half


class CollateError(ValueError):
    """Samples that cannot be batched (no image token, too long for a packed row)."""


@dataclass
class SpatialCollator:
    """Collate dataset samples into one batch.

    pad_token_id / mask_token_id / depth_token_id: from the model's tokenizer; num_image_tokens: see
    image_token_count. pack: concatenate samples into rows of at most ``pack_length`` tokens (position ids
    restart per sample, no attention mask, so attention stays within each sample); otherwise rows are
    right-padded to the longest sample with an attention mask.

    Batch keys: input_ids, labels, position_ids, attention_mask (None when packed), pixel_values (N,3,S,S),
    depth_pixel_values (N,3,S,S) or None, masks (N,Rmax,S,S), mask_counts / depth_counts (N,) region
    tokens per sample, num_samples, num_tokens (non-pad).
    """

    pad_token_id: int
    mask_token_id: int
    depth_token_id: Optional[int]
    num_image_tokens: int = 196
    pack: bool = False
    pack_length: int = 4096

    def expand(self, input_ids: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        positions = (input_ids == IMAGE_TOKEN_INDEX).nonzero().flatten()
        if positions.numel() != 1:
            raise CollateError(f"a sample must contain exactly one image token, found {positions.numel()}")
        at = int(positions[0])
        image = torch.full((self.num_image_tokens,), IMAGE_TOKEN_INDEX, dtype=input_ids.dtype)
        ignore = torch.full((self.num_image_tokens,), IGNORE_INDEX, dtype=labels.dtype)
        return (torch.cat([input_ids[:at], image, input_ids[at + 1:]]),
                torch.cat([labels[:at], ignore, labels[at + 1:]]))

    def __call__(self, samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
        if not samples:
            raise CollateError("empty batch")
        expanded = [self.expand(s["input_ids"], s["labels"]) for s in samples]
        rows = self._pack(expanded) if self.pack else [[k] for k in range(len(samples))]
        length = max(sum(len(expanded[k][0]) for k in row) for row in rows)
        input_ids = torch.full((len(rows), length), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(rows), length), IGNORE_INDEX, dtype=torch.long)
        positions = torch.zeros((len(rows), length), dtype=torch.long)
        attention = torch.zeros((len(rows), length), dtype=torch.long)
        order: list[int] = []
        for r, row in enumerate(rows):
            at = 0
            for k in row:
                ids, lab = expanded[k]
                n = len(ids)
                input_ids[r, at:at + n] = ids
                labels[r, at:at + n] = lab
                positions[r, at:at + n] = torch.arange(n)
                attention[r, at:at + n] = 1
                at += n
                order.append(k)
            positions[r, at:] = torch.arange(length - at)  # padding: its own segment when packed
        masks = [samples[k]["masks"] for k in order]
        r_max = max(1, max(m.shape[0] for m in masks))
        size = samples[0]["pixel_values"].shape[-1]
        mask_batch = torch.zeros((len(order), r_max, size, size), dtype=torch.float32)
        for i, m in enumerate(masks):
            mask_batch[i, :m.shape[0]] = m
        mask_counts = torch.tensor([int((expanded[k][0] == self.mask_token_id).sum()) for k in order])
        depth_counts = torch.tensor([int((expanded[k][0] == self.depth_token_id).sum()) if self.depth_token_id
                                     is not None else 0 for k in order])
        if bool((mask_counts > torch.tensor([m.shape[0] for m in masks])).any()):
            raise CollateError("a sample has more <mask> tokens than masks")
        has_depth = "depth_pixel_values" in samples[0]
        return {
            "input_ids": input_ids, "labels": labels, "position_ids": positions,
            "attention_mask": None if self.pack else attention,
            "pixel_values": torch.stack([samples[k]["pixel_values"] for k in order]),
            "depth_pixel_values": torch.stack([samples[k]["depth_pixel_values"] for k in order]) if has_depth else None,
            "masks": mask_batch, "mask_counts": mask_counts, "depth_counts": depth_counts,
            "num_samples": len(order), "num_tokens": int(attention.sum()),
        }

    def _pack(self, expanded: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> list[list[int]]:
        """Greedy first-fit in sample order."""
        rows: list[list[int]] = []
        lengths: list[int] = []
        for k, (ids, _) in enumerate(expanded):
            n = len(ids)
            if n > self.pack_length:
                raise CollateError(f"a sample of {n} tokens does not fit pack_length={self.pack_length}")
            for r, used in enumerate(lengths):
                if used + n <= self.pack_length:
                    rows[r].append(k)
                    lengths[r] += n
                    break
            else:
                rows.append([k])
                lengths.append(n)
        return rows


def collator_for(model, *, pack: bool = False, pack_length: int = 4096) -> SpatialCollator:
    """The collator matching a loaded SpatialRGPTForCausalLM (its tokenizer and image geometry)."""
    tokenizer = model.tokenizer
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return SpatialCollator(pad_token_id=int(pad), mask_token_id=model.mask_token_id,
                           depth_token_id=model.depth_token_id if model.config.enable_depth else None,
                           num_image_tokens=image_token_count(model.config), pack=pack, pack_length=pack_length)
