"""SpatialRGPT: SigLIP + region extractor + mlp_downsample projector + Llama, in the reference layout.

``SpatialRGPTForCausalLM.from_pretrained`` loads the published checkpoint (or a fine-tune) folder or
hub id; ``save_pretrained`` writes the same layout back (bit-exact round trip of every tensor).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

import torch
from torch import nn
from transformers import AutoTokenizer, LlamaForCausalLM
from transformers.initialization import no_init_weights

from rgpt_ros.model.checkpoint import CheckpointError, DEFAULT_SHARD_BYTES, iter_weights, resolve_checkpoint, save_weights
from rgpt_ros.model.configuration import SpatialRGPTConfig
from rgpt_ros.model.prompt import DEPTH_TOKEN, IMAGE_TOKEN_INDEX, MASK_TOKEN, PromptError
from rgpt_ros.model.vision import SpatialRGPTVisionEncoder

VISION_PREFIX = "vision_model."  # SiglipVisionModel keys as the reference saves them
SIGLIP_PREPROCESSOR = {"do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5],
                       "image_processor_type": "SiglipImageProcessor", "image_std": [0.5, 0.5, 0.5], "resample": 3,
                       "rescale_factor": 0.00392156862745098}


def default_dtype(device: str | torch.device) -> torch.dtype:
    """bf16 on CUDA (the reference evaluation), fp32 on CPU."""
    return torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32


@contextlib.contextmanager
def _allocation(device: str | torch.device, dtype: torch.dtype) -> Iterator[None]:
    """Create modules directly on ``device`` in ``dtype`` without random init (weights are loaded next)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device), no_init_weights():
            yield
    finally:
        torch.set_default_dtype(previous)


@dataclass
class FrameEncoding:
    """One frame encoded for the LLM: reused by every question about that frame.

    image_embeds: (1, 196, H); rgb_regions / depth_regions: (1, R, H) per region in the engine's list
    (depth_regions is None when the checkpoint has no depth branch).
    """

    image_embeds: torch.Tensor
    rgb_regions: torch.Tensor
    depth_regions: Optional[torch.Tensor]


class SpatialRGPTForCausalLM(nn.Module):
    """The full model; ``vision`` is the exportable SpatialRGPTVisionEncoder, ``llm`` a LlamaForCausalLM."""

    def __init__(self, config: SpatialRGPTConfig, tokenizer=None) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.vision = SpatialRGPTVisionEncoder(config.vision_tower, config.hidden_size,
                                               select_layer=config.select_layer, enable_region=config.enable_region)
        self.llm = LlamaForCausalLM(config.llm)
        self._token_ids: dict[str, int] = {}
        object.__setattr__(self, "_vision_call", self.vision)  # plain attribute: not a second submodule

    # ------------------------------------------------------------------ tokens
    def token_id(self, token: str) -> int:
        if self.tokenizer is None:
            raise CheckpointError("the model has no tokenizer")
        ids = self.tokenizer.convert_tokens_to_ids([token])
        if not ids or ids[0] is None or ids[0] == self.tokenizer.unk_token_id:
            raise CheckpointError(f"the tokenizer has no {token!r} token (not a SpatialRGPT tokenizer)")
        return int(ids[0])

    @property
    def mask_token_id(self) -> int:
        """Id of ``<mask>`` (from the tokenizer; settable for tokenizer-free use such as benchmarks)."""
        return self._token_ids.get(MASK_TOKEN) or self._token_ids.setdefault(MASK_TOKEN, self.token_id(MASK_TOKEN))

    @mask_token_id.setter
    def mask_token_id(self, value: int) -> None:
        self._token_ids[MASK_TOKEN] = int(value)

    @property
    def depth_token_id(self) -> int:
        """Id of ``<depth>`` (from the tokenizer; settable)."""
        return self._token_ids.get(DEPTH_TOKEN) or self._token_ids.setdefault(DEPTH_TOKEN, self.token_id(DEPTH_TOKEN))

    @depth_token_id.setter
    def depth_token_id(self, value: int) -> None:
        self._token_ids[DEPTH_TOKEN] = int(value)

    def compile_vision(self, mode: Optional[str] = None) -> None:
        """Run the vision encoder through ``torch.compile`` (CUDA: ``reduce-overhead`` = CUDA graphs).

        Shapes are static per region count; a new count compiles once more.
        """
        mode = mode or ("reduce-overhead" if self.device.type == "cuda" else "default")
        object.__setattr__(self, "_vision_call", torch.compile(self.vision, mode=mode, dynamic=False, fullgraph=False))

    @property
    def device(self) -> torch.device:
        return self.llm.get_input_embeddings().weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.llm.get_input_embeddings().weight.dtype

    # ------------------------------------------------------------------ weights in reference naming
    def component_modules(self) -> dict[str, tuple[nn.Module, str]]:
        """Component folder -> (module, key prefix added on disk)."""
        return {"llm": (self.llm, ""), **vision_component_modules(self.vision)}

    def reference_state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Per component folder, tensors under the names the reference checkpoint uses."""
        out = {}
        for name, (module, prefix) in self.component_modules().items():
            state = {prefix + k: v for k, v in module.state_dict().items()}
            if name == "llm" and self.config.llm.tie_word_embeddings:
                state.pop("lm_head.weight", None)
            out[name] = state
        return out

    def load_component(self, name: str, tensors: Iterator[tuple[str, torch.Tensor]]) -> None:
        """Copy (key, tensor) pairs in reference naming into a component; strict about names and shapes."""
        module, prefix = self.component_modules()[name]
        optional = {"lm_head.weight"} if name == "llm" and self.config.llm.tie_word_embeddings else set()
        load_module_weights(name, module, prefix, tensors, optional)

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_pretrained(cls, path_or_hub_id: str | os.PathLike, *, device: str | torch.device = "cpu",
                        dtype: Optional[torch.dtype] = None, local_files_only: Optional[bool] = None,
                        cache_dir: Optional[str | os.PathLike] = None) -> "SpatialRGPTForCausalLM":
        """Load a checkpoint folder or hub id (offline: cache only; HF_HUB_OFFLINE honoured)."""
        folder = resolve_checkpoint(path_or_hub_id, local_files_only, cache_dir)
        config = SpatialRGPTConfig.from_pretrained(folder)
        if not (folder / "llm").is_dir():
            raise CheckpointError(f"{folder} has no llm/ folder (tokenizer and language model weights)")
        tokenizer = AutoTokenizer.from_pretrained(str(folder / "llm"), local_files_only=True)
        dtype = dtype or default_dtype(device)
        with _allocation(device, dtype):
            model = cls(config, tokenizer)
        for name in model.component_modules():
            model.load_component(name, iter_weights(folder / name, device))
        if config.llm.tie_word_embeddings:
            model.llm.tie_weights()
        model.mask_token_id  # fail early on a tokenizer without the region tokens
        return model.eval()

    @classmethod
    def from_config(cls, config: SpatialRGPTConfig, tokenizer=None, *, device: str | torch.device = "cpu",
                    dtype: torch.dtype = torch.float32, seed: Optional[int] = None) -> "SpatialRGPTForCausalLM":
        """A randomly initialised model (tests, benchmarks)."""
        if seed is not None:
            torch.manual_seed(seed)
        previous = torch.get_default_dtype()
        torch.set_default_dtype(dtype)
        try:
            with torch.device(device):
                model = cls(config, tokenizer)
        finally:
            torch.set_default_dtype(previous)
        return model.eval()

    def save_pretrained(self, folder: str | os.PathLike, max_shard_bytes: int = DEFAULT_SHARD_BYTES) -> Path:
        """Write config, weights, tokenizer and preprocessor config in the reference layout."""
        folder = Path(folder)
        self.config.save_pretrained(folder)
        for name, state in self.reference_state_dicts().items():
            save_weights(state, folder / name, max_shard_bytes if name == "llm" else DEFAULT_SHARD_BYTES)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(str(folder / "llm"))
        processor = dict(SIGLIP_PREPROCESSOR, size={"height": self.config.image_size, "width": self.config.image_size})
        (folder / "vision_tower" / "preprocessor_config.json").write_text(json.dumps(processor, indent=2) + "\n")
        return folder

    # ------------------------------------------------------------------ inference pieces
    @torch.inference_mode()
    def encode_frame(self, pixel_values: torch.Tensor, depth_pixel_values: Optional[torch.Tensor],
                     masks: torch.Tensor) -> FrameEncoding:
        """Encode one frame (1,3,S,S), its depth image (or None) and all its region masks (1,R,S,S) once."""
        pixel_values = pixel_values.to(self.device, self.dtype)
        masks = masks.to(self.device, torch.float32)
        if self.config.enable_depth:
            if depth_pixel_values is None:
                raise ValueError("this checkpoint uses depth: pass depth_pixel_values (the reference feeds the "
                                 "RGB image when no depth is available)")
            image, rgb, depth = self._vision_call(pixel_values, depth_pixel_values.to(self.device, self.dtype), masks)
            return FrameEncoding(image.clone(), rgb.clone(), depth.clone())  # CUDA-graph outputs are reused
        if self.config.enable_region:
            image, rgb = self.vision.encode_rgb_only(pixel_values, masks)
            return FrameEncoding(image, rgb, None)
        image, _ = self.vision.encode_image(pixel_values)
        return FrameEncoding(image, image.new_zeros(1, 0, image.shape[-1]), None)

    @torch.inference_mode()
    def prompt_embeds(self, input_ids: Sequence[int], encoding: FrameEncoding, mentions: Sequence[int]) -> torch.Tensor:
        """(1, T, H) LLM input: text embeddings, image embeddings at IMAGE_TOKEN_INDEX, and the k-th
        ``<mask>`` / ``<depth>`` token replaced by the region ``mentions[k]``'s RGB / depth embedding."""
        ids = torch.tensor(list(input_ids), dtype=torch.long, device=self.device)
        image_positions = (ids == IMAGE_TOKEN_INDEX).nonzero().flatten().tolist()
        if len(image_positions) != 1:
            raise PromptError(f"the prompt must contain exactly one <image>, found {len(image_positions)}")
        embeds = self.llm.get_input_embeddings()(ids.clamp(min=0)).clone()
        index = torch.tensor(list(mentions), dtype=torch.long, device=self.device)
        if len(mentions) and int(index.max()) >= encoding.rgb_regions.shape[1]:
            raise PromptError(f"mention {int(index.max())} but only {encoding.rgb_regions.shape[1]} regions were encoded")
        if self.config.enable_region:
            self._bind(ids, embeds, self.mask_token_id, encoding.rgb_regions[0], index, MASK_TOKEN)
        if self.config.enable_depth and encoding.depth_regions is not None:
            self._bind(ids, embeds, self.depth_token_id, encoding.depth_regions[0], index, DEPTH_TOKEN)
        at = image_positions[0]
        image = encoding.image_embeds[0].to(embeds.dtype)
        return torch.cat([embeds[:at], image, embeds[at + 1:]], dim=0)[None]

    @staticmethod
    def _bind(ids: torch.Tensor, embeds: torch.Tensor, token_id: int, regions: torch.Tensor, index: torch.Tensor,
              name: str) -> None:
        positions = (ids == token_id).nonzero().flatten()
        if positions.numel() != index.numel():
            raise PromptError(f"the prompt has {positions.numel()} {name} token(s) but {index.numel()} region "
                              "mention(s); write each mention as one region reference")
        if positions.numel():
            embeds[positions] = regions[index].to(embeds.dtype)


def vision_component_modules(vision: SpatialRGPTVisionEncoder) -> dict[str, tuple[nn.Module, str]]:
    """The vision encoder's component folders -> (module, key prefix on disk)."""
    out = {"vision_tower": (vision.vision_tower, VISION_PREFIX), "mm_projector": (vision.mm_projector, "")}
    if vision.region_extractor is not None:
        out["region_extractor"] = (vision.region_extractor, "")
    return out


def load_module_weights(name: str, module: nn.Module, prefix: str, tensors: Iterator[tuple[str, torch.Tensor]],
                        optional: set[str] = frozenset()) -> None:
    """Copy (key, tensor) pairs stored as ``prefix + key`` into ``module``; CheckpointError on any mismatch.

    A SigLIP pooling head absent from the checkpoint is dropped (it is never used).
    """
    targets = module.state_dict(keep_vars=True)
    if name == "vision_tower":
        optional = set(optional) | {k for k in targets if k.startswith("head.")}
    seen: set[str] = set()
    unexpected: list[str] = []
    for key, tensor in tensors:
        local = key[len(prefix):] if prefix and key.startswith(prefix) else key
        if local not in targets:
            unexpected.append(key)
            continue
        target = targets[local]
        if tuple(target.shape) != tuple(tensor.shape):
            raise CheckpointError(f"{name}: {key} has shape {tuple(tensor.shape)}, the config expects "
                                  f"{tuple(target.shape)} (config and weights disagree)")
        with torch.no_grad():
            target.copy_(tensor)
        seen.add(local)
    missing = sorted(set(targets) - seen - set(optional))
    if name == "vision_tower" and any(k.startswith("head.") for k in set(targets) - seen):
        del module.head  # not in the checkpoint: drop it rather than keep uninitialised memory
        module.use_head = False
    if missing or unexpected:
        raise CheckpointError(f"{name}: weights do not match the model: missing {missing[:8]}"
                              f"{' ...' if len(missing) > 8 else ''}, unexpected {unexpected[:8]}"
                              f"{' ...' if len(unexpected) > 8 else ''} ({len(missing)} missing, "
                              f"{len(unexpected)} unexpected)")


def load_vision_encoder(path_or_hub_id: str | os.PathLike, *, device: str | torch.device = "cpu",
                        dtype: Optional[torch.dtype] = None, local_files_only: Optional[bool] = None,
                        cache_dir: Optional[str | os.PathLike] = None) -> SpatialRGPTVisionEncoder:
    """Only the vision half of a checkpoint (SigLIP + region extractor + projector), e.g. for ONNX/TensorRT
    export, without reading the language model's weights."""
    folder = resolve_checkpoint(path_or_hub_id, local_files_only, cache_dir)
    config = SpatialRGPTConfig.from_pretrained(folder)
    with _allocation(device, dtype or default_dtype(device)):
        vision = SpatialRGPTVisionEncoder(config.vision_tower, config.hidden_size, select_layer=config.select_layer,
                                          enable_region=config.enable_region)
    for name, (module, prefix) in vision_component_modules(vision).items():
        load_module_weights(name, module, prefix, iter_weights(folder / name, device))
    return vision.eval()


def read_reference_tensors(folder: str | os.PathLike) -> Mapping[str, dict[str, torch.Tensor]]:
    """Every tensor of a checkpoint folder grouped by component (for comparisons and conversions)."""
    folder = Path(folder)
    out = {}
    for name in ("llm", "vision_tower", "mm_projector", "region_extractor"):
        if (folder / name).is_dir():
            out[name] = dict(iter_weights(folder / name, "cpu"))
    return out
