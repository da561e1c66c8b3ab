"""Which parameters train in each stage of the reference recipe.

- ``align``: the connectors only -- image projector (``mm_projector``) and region extractor (feature
  refinement + RGB/depth region connectors); vision tower and LLM frozen.
- ``sft``:   LLM + projector + region extractor (vision tower frozen); with LoRA the LLM trains through
  its adapters only.
- ``full``:  everything, the vision tower included (its layers after the selected feature layer, the
  post-layernorm and the pooling head never run, so they stay frozen).
"""

from __future__ import annotations

from torch import nn

from rgpt_ros.model.vision import layers_to_run

STAGES: dict[str, tuple[str, ...]] = {
    "align": ("mm_projector", "region_extractor"),
    "sft": ("llm", "mm_projector", "region_extractor"),
    "full": ("llm", "mm_projector", "region_extractor", "vision_tower"),
}


class StageError(ValueError):
    """An unknown stage or a stage that does not fit the model / options."""


def stage_components(stage: str) -> tuple[str, ...]:
    try:
        return STAGES[stage]
    except KeyError:
        raise StageError(f"unknown stage {stage!r}; choose one of {sorted(STAGES)}") from None


def _component(model, name: str) -> nn.Module | None:
    if name == "llm":
        return model.llm
    if name == "vision_tower":
        return model.vision.vision_tower
    if name == "mm_projector":
        return model.vision.mm_projector
    return model.vision.region_extractor


def apply_stage(model, stage: str, *, lora: bool = False) -> dict[str, int]:
    """Set ``requires_grad`` for ``stage``; returns trainable parameter counts per component.

    With ``lora`` the LLM must already carry peft adapters (``rgpt_ros.training.lora.add_lora``): only the
    adapter weights of the LLM train. Unused parts stay frozen (the depth connector of a model without depth).
    """
    components = stage_components(stage)
    if lora and "llm" not in components:
        raise StageError(f"LoRA adapts the LLM, which stage {stage!r} keeps frozen; use stage 'sft' or 'full'")
    for param in model.parameters():
        param.requires_grad_(False)
    counts: dict[str, int] = {}
    for name in components:
        module = _component(model, name)
        if module is None:
            continue
        for pname, param in module.named_parameters():
            if name == "llm" and lora and "lora_" not in pname:
                continue
            if name == "region_extractor" and pname.startswith("depth_projector") and not model.config.enable_depth:
                continue
            if name == "vision_tower" and not _vision_parameter_used(model, pname):
                continue
            param.requires_grad_(True)
        counts[name] = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return counts


def _vision_parameter_used(model, name: str) -> bool:
    """Whether a SigLIP parameter takes part in the features the model uses (embeddings + the layers it runs)."""
    if name.startswith("embeddings."):
        return True
    parts = name.split(".")
    if parts[:2] == ["encoder", "layers"]:
        used = layers_to_run(int(model.config.vision_tower.num_hidden_layers), model.config.select_layer)
        return int(parts[2]) < used
    return False


def trainable_parameters(model) -> dict[str, nn.Parameter]:
    """Name -> parameter for every parameter that trains (names as in ``model.named_parameters()``)."""
    return {name: p for name, p in model.named_parameters() if p.requires_grad}
