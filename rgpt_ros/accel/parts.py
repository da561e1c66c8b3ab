"""A model part = an nn.Module with static named inputs/outputs: the unit every runtime exports and runs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn

_TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
                 "int64": torch.int64, "int32": torch.int32, "bool": torch.bool}


def torch_dtype(name: str) -> torch.dtype:
    """``"float16"`` -> ``torch.float16`` (ValueError for unknown names)."""
    if name not in _TORCH_DTYPES:
        raise ValueError(f"unknown dtype {name!r}; expected one of {sorted(_TORCH_DTYPES)}")
    return _TORCH_DTYPES[name]


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float16`` -> ``"float16"``."""
    return str(dtype).replace("torch.", "")


@dataclass(frozen=True)
class TensorSpec:
    """A static input: name, shape, dtype name, and how to fill example data (``normal`` or ``binary``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    fill: str = "normal"

    def example(self, generator: torch.Generator, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Seeded example data of this spec (``dtype`` overrides floating dtypes)."""
        if self.fill == "binary":
            data = (torch.rand(self.shape, generator=generator) > 0.5).float()
        else:
            data = torch.randn(self.shape, generator=generator)
        return data.to(dtype or torch_dtype(self.dtype))

    def dims(self) -> str:
        """``"1x3x518x518"`` (the TensorRT / ORT profile shape notation)."""
        return "x".join(str(d) for d in self.shape)


@dataclass
class ModelPart:
    """An exportable module: ``module(*inputs in spec order)`` returns a tensor or a tuple in ``output_names`` order.

    ``fingerprint`` identifies the weights + architecture (cache keys use it with the shapes).
    """

    name: str
    module: nn.Module
    inputs: tuple[TensorSpec, ...]
    output_names: tuple[str, ...]
    fingerprint: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.inputs or not self.output_names:
            raise ValueError(f"model part {self.name!r} needs at least one input and one output")
        if not self.fingerprint:
            self.fingerprint = module_fingerprint(self.module, self.inputs)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs)

    @property
    def shape_key(self) -> str:
        """``"pixel_values=1x3x518x518"`` joined by ``;`` (part of every cache key)."""
        return ";".join(f"{s.name}={s.dims()}" for s in self.inputs)

    @property
    def device(self) -> torch.device:
        param = next(iter(self.module.parameters()), None)
        return param.device if param is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        param = next(iter(self.module.parameters()), None)
        return param.dtype if param is not None else torch.float32

    def example_inputs(self, seed: int = 0, device: torch.device | str | None = None,
                       dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
        """Seeded inputs of the static shapes (floating inputs in ``dtype`` or the module's dtype)."""
        generator = torch.Generator().manual_seed(seed)
        float_dtype = dtype or self.dtype
        return {s.name: s.example(generator, float_dtype if torch_dtype(s.dtype).is_floating_point else None)
                .to(device or self.device) for s in self.inputs}

    def outputs_as_dict(self, result) -> dict[str, torch.Tensor]:
        """Map a module result (tensor or tuple) to ``output_names``."""
        values = (result,) if isinstance(result, torch.Tensor) else tuple(result)
        if len(values) != len(self.output_names):
            raise ValueError(f"{self.name}: module returned {len(values)} outputs, expected {self.output_names}")
        return dict(zip(self.output_names, values))


def module_fingerprint(module: nn.Module, inputs: Sequence[TensorSpec] = ()) -> str:
    """blake2b over the module class, config (when present), every parameter/buffer's name, shape, dtype and bytes."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(type(module).__qualname__.encode())
    config = getattr(module, "config", None)
    if config is not None and hasattr(config, "to_json_string"):
        digest.update(config.to_json_string(use_diff=False).encode())
    digest.update(json.dumps([(s.name, s.shape, s.dtype) for s in inputs]).encode())
    with torch.no_grad():
        for name, tensor in list(module.state_dict().items()):
            digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
            data = tensor.detach().contiguous().cpu()
            if data.dtype == torch.bfloat16:
                data = data.view(torch.int16)
            digest.update(np.ascontiguousarray(data.numpy()).tobytes())
    return digest.hexdigest()


class DepthAnythingOutput(nn.Module):
    """``pixel_values (B,3,h,w) -> predicted_depth (B,h,w)`` of a ``DepthAnythingForDepthEstimation``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.config = model.config

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values, return_dict=True).predicted_depth


def depth_model_part(model: nn.Module, input_size: tuple[int, int], *, batch: int = 1,
                     name: str = "depth") -> ModelPart:
    """The Depth Anything network at a fixed (height, width) as a :class:`ModelPart`."""
    height, width = input_size
    spec = TensorSpec("pixel_values", (batch, 3, height, width))
    return ModelPart(name=f"depth_anything-{name}", module=DepthAnythingOutput(model).eval(), inputs=(spec,),
                     output_names=("predicted_depth",),
                     meta={"kind": "depth", "metric": model.config.depth_estimation_type == "metric"})


def vision_encoder_part(encoder: nn.Module, *, num_regions: int = 4, batch: int = 1,
                        name: str = "spatialrgpt") -> ModelPart:
    """``SpatialRGPTVisionEncoder`` (SigLIP + refinement + projector + region pooling) at a fixed region count.

    Inputs: pixel_values, depth_pixel_values (B,3,S,S) and masks (B,R,S,S) (S = the tower's image size);
    outputs: image_embeds (B,196,H), rgb_region_embeds and depth_region_embeds (B,R,H). Pad unused
    regions with empty masks (they pool to zeros) to reuse one engine for fewer regions.
    """
    if num_regions < 1:
        raise ValueError(f"num_regions must be >= 1, got {num_regions}")
    size = int(encoder.vision_tower.config.image_size)
    inputs = (TensorSpec("pixel_values", (batch, 3, size, size)),
              TensorSpec("depth_pixel_values", (batch, 3, size, size)),
              TensorSpec("masks", (batch, num_regions, size, size), fill="binary"))
    return ModelPart(name=f"{name}-vision", module=encoder.eval(), inputs=inputs,
                     output_names=("image_embeds", "rgb_region_embeds", "depth_region_embeds"),
                     meta={"kind": "vision", "num_regions": num_regions})


def siglip_features_part(features: nn.Module, *, batch: int = 1, name: str = "siglip") -> ModelPart:
    """The SigLIP tower alone (``SigLIPFeatures``: pixel_values -> selected-layer tokens), for benchmarks."""
    size = int(features.tower.config.image_size)
    return ModelPart(name=f"{name}-features", module=features.eval(),
                     inputs=(TensorSpec("pixel_values", (batch, 3, size, size)),), output_names=("features",),
                     meta={"kind": "siglip"})
