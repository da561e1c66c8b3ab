"""LoRA adapters on the LLM through peft, and export of a plain checkpoint with the adapters merged.

Export never changes the training model: merged weights (W + B A * scale) are computed as new tensors and
written through the model's own ``save_pretrained``, so the result is the exact reference layout that
``SpatialRGPTForCausalLM.from_pretrained`` and the ``spatialrgpt`` engine load.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Optional

import torch
from torch import nn

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ADAPTER = "default"


@dataclass(frozen=True)
class LoraSettings:
    """rank r, alpha (scale = alpha / r), dropout and the LLM linear layers adapted."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    targets: tuple[str, ...] = DEFAULT_TARGETS

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha <= 0 or not 0.0 <= self.dropout < 1.0 or not self.targets:
            raise ValueError(f"bad LoRA settings: r={self.r}, alpha={self.alpha}, dropout={self.dropout}, "
                             f"targets={self.targets}")


def has_lora(model) -> bool:
    return hasattr(model.llm, "peft_config")


def add_lora(model, settings: LoraSettings = LoraSettings()) -> None:
    """Wrap ``model.llm`` in a peft LoRA model (adapters in fp32, base weights untouched)."""
    from peft import LoraConfig, get_peft_model

    if has_lora(model):
        raise ValueError("the model already has LoRA adapters")
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=list(settings.targets), bias="none", task_type="CAUSAL_LM")
    model.llm = get_peft_model(model.llm, config)
    for name, param in model.llm.named_parameters():
        if "lora_" in name and param.dtype != torch.float32:
            param.data = param.data.float()


def merged_llm_state(model) -> dict[str, torch.Tensor]:
    """The LLM's state dict under plain LlamaForCausalLM names, LoRA deltas added (new tensors; no side effect)."""
    from peft.tuners.lora import LoraLayer

    base = model.llm.get_base_model()
    deltas: dict[str, torch.Tensor] = {}
    for name, module in base.named_modules():
        if isinstance(module, LoraLayer) and ADAPTER in getattr(module, "lora_A", {}):
            with torch.no_grad():
                deltas[f"{name}.weight"] = module.get_delta_weight(ADAPTER)
    out: dict[str, torch.Tensor] = {}
    for key, tensor in base.state_dict().items():
        if "lora_" in key:
            continue
        plain = key.replace(".base_layer.", ".")
        if plain in deltas and key.endswith(".base_layer.weight"):
            tensor = (tensor.float() + deltas[plain].float()).to(tensor.dtype)
        out[plain] = tensor
    return out


class _StateView(nn.Module):
    """Stands in for a component during saving: ``state_dict()`` returns the given tensors."""

    def __init__(self, state: Mapping[str, torch.Tensor]) -> None:
        super().__init__()
        self._tensors = dict(state)

    def state_dict(self, *args, **kwargs):  # noqa: D102 - nn.Module API
        return dict(self._tensors)


@contextlib.contextmanager
def _components_replaced(model, states: Mapping[str, Mapping[str, torch.Tensor]]) -> Iterator[None]:
    owners = {"llm": (model, "llm"), "vision_tower": (model.vision, "vision_tower"),
              "mm_projector": (model.vision, "mm_projector"), "region_extractor": (model.vision, "region_extractor")}
    saved = {}
    try:
        for name, state in states.items():
            owner, attr = owners[name]
            saved[name] = getattr(owner, attr)
            setattr(owner, attr, _StateView(state))
        yield
    finally:
        for name, module in saved.items():
            owner, attr = owners[name]
            setattr(owner, attr, module)


def export_pretrained(model, folder: str | os.PathLike, dtype: Optional[torch.dtype] = None) -> Path:
    """Write ``model`` in the reference layout (LoRA merged; tensors cast to ``dtype`` when given)."""
    states: dict[str, dict[str, torch.Tensor]] = {}
    if has_lora(model):
        states["llm"] = merged_llm_state(model)
    if dtype is not None:
        for name, (module, _prefix) in model.component_modules().items():
            state = states.get(name) or module.state_dict()
            states[name] = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    with _components_replaced(model, states):
        return model.save_pretrained(folder)


def merge_lora(model) -> None:
    """Fold the adapters into the LLM for good (``model.llm`` becomes a plain LlamaForCausalLM)."""
    if has_lora(model):
        model.llm = model.llm.merge_and_unload()
