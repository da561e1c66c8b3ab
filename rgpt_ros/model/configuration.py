"""SpatialRGPT configuration: reads and writes the reference ``config.json`` layout.

The reference top-level ``config.json`` (model_type ``llava_llama``) nests one ``*_cfg`` entry per
component; when an entry is a dict the component lives in the sub-folder named without ``_cfg``
(``llm/``, ``vision_tower/``, ``mm_projector/``, ``region_extractor/``) with its own ``config.json``.
Unknown fields are kept verbatim so that a load/save round trip does not lose anything.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from transformers import LlamaConfig, SiglipVisionConfig

COMPONENTS = ("llm", "vision_tower", "mm_projector", "region_extractor")
MODEL_TYPE = "llava_llama"
PROJECTOR_TYPES = ("mlp_downsample",)
REGION_EXTRACTOR_TYPES = ("regiongpt",)


class ConfigError(ValueError):
    """A config that is not a SpatialRGPT (VILA llava_llama) config or uses an unsupported option."""


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@dataclass
class SpatialRGPTConfig:
    """Top-level config plus the four component configs.

    top:              the top-level dict (``*_cfg`` entries are replaced by the component dicts on save).
    llm:              LlamaConfig of ``llm/``.
    vision_tower:     SiglipVisionConfig of ``vision_tower/``.
    mm_projector:     dict of ``mm_projector/config.json`` (model_type ``v2l_projector``).
    region_extractor: dict of ``region_extractor/config.json`` (model_type ``region_extractor``), or None.
    """

    top: dict[str, Any]
    llm: LlamaConfig
    vision_tower: SiglipVisionConfig
    mm_projector: dict[str, Any]
    region_extractor: Optional[dict[str, Any]] = None
    _raw_components: dict[str, dict] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ typed views
    @property
    def mm_hidden_size(self) -> int:
        return int(self.top.get("mm_hidden_size", self.vision_tower.hidden_size))

    @property
    def hidden_size(self) -> int:
        return int(self.llm.hidden_size)

    @property
    def enable_region(self) -> bool:
        return bool(self.top.get("enable_region", False)) and self.region_extractor is not None

    @property
    def enable_depth(self) -> bool:
        return self.enable_region and bool(self.top.get("enable_depth", False))

    @property
    def select_layer(self) -> int:
        return int(self.top.get("mm_vision_select_layer", -2))

    @property
    def image_size(self) -> int:
        return int(self.vision_tower.image_size)

    @property
    def grid_size(self) -> int:
        """Vision tokens per side (27 for SigLIP so400m at 384)."""
        return self.image_size // int(self.vision_tower.patch_size)

    @property
    def projector_type(self) -> str:
        return str(self.mm_projector.get("mm_projector_type", ""))

    def validate(self) -> None:
        """Raise ConfigError for anything this implementation cannot reproduce exactly."""
        if self.top.get("model_type", MODEL_TYPE) != MODEL_TYPE:
            raise ConfigError(f"model_type {self.top.get('model_type')!r} is not {MODEL_TYPE!r} (not a SpatialRGPT/VILA checkpoint)")
        if self.projector_type not in PROJECTOR_TYPES:
            raise ConfigError(f"mm_projector_type {self.projector_type!r} unsupported; expected one of {PROJECTOR_TYPES}")
        if self.region_extractor is not None:
            kind = self.region_extractor.get("region_extractor_type")
            if kind not in REGION_EXTRACTOR_TYPES:
                raise ConfigError(f"region_extractor_type {kind!r} unsupported; expected one of {REGION_EXTRACTOR_TYPES}")
        if self.mm_hidden_size != self.vision_tower.hidden_size:
            raise ConfigError(f"mm_hidden_size {self.mm_hidden_size} != vision tower hidden_size {self.vision_tower.hidden_size}")
        if self.top.get("image_aspect_ratio", "resize") != "resize":
            raise ConfigError(f"image_aspect_ratio {self.top.get('image_aspect_ratio')!r} unsupported (only 'resize')")
        if self.top.get("mm_vision_select_feature", "cls_patch") != "cls_patch":
            raise ConfigError(f"mm_vision_select_feature {self.top.get('mm_vision_select_feature')!r} unsupported "
                              "(SigLIP has no CLS token: only 'cls_patch')")
        if self.top.get("s2"):
            raise ConfigError("S2 multi-scale vision towers are not supported")
        resolution = int(self.top.get("vision_resolution", -1))
        if resolution not in (-1, self.image_size):
            raise ConfigError(f"vision_resolution {resolution} != vision tower image_size {self.image_size} is unsupported")
        n = int(self.vision_tower.num_hidden_layers)
        if not -n - 1 <= self.select_layer <= n:
            raise ConfigError(f"mm_vision_select_layer {self.select_layer} outside the {n}-layer vision tower")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_components(cls, llm: LlamaConfig, vision_tower: SiglipVisionConfig, *, enable_region: bool = True,
                        enable_depth: bool = True, **top: Any) -> "SpatialRGPTConfig":
        """A new config in the reference layout from component configs (tiny test models, benchmarks)."""
        mm_projector = {"architectures": ["MultimodalProjector"], "mm_projector_type": "mlp_downsample",
                        "model_type": "v2l_projector"}
        region_extractor = {"architectures": ["RegionExtractor"], "model_type": "region_extractor",
                            "region_extractor_type": "regiongpt"}
        base = {"architectures": ["LlavaLlamaModel"], "model_type": MODEL_TYPE, "hidden_size": llm.hidden_size,
                "mm_hidden_size": vision_tower.hidden_size, "image_aspect_ratio": "resize",
                "mm_vision_select_layer": -2, "mm_vision_select_feature": "cls_patch", "mm_use_im_start_end": False,
                "mm_use_im_patch_token": False, "model_dtype": "torch.bfloat16", "vision_resolution": -1, "s2": False,
                "enable_region": enable_region, "enable_depth": enable_depth}
        base.update(top)
        return cls(top=base, llm=llm, vision_tower=vision_tower, mm_projector=mm_projector,
                   region_extractor=region_extractor if enable_region else None)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> "SpatialRGPTConfig":
        """Read ``folder/config.json`` and the component configs (sub-folder configs win over nested dicts)."""
        folder = Path(folder)
        path = folder / "config.json"
        if not path.is_file():
            raise ConfigError(f"{folder} has no config.json (not a SpatialRGPT checkpoint folder)")
        top = _read_json(path)
        if top.get("model_type") != MODEL_TYPE:
            raise ConfigError(f"{path}: model_type {top.get('model_type')!r} is not {MODEL_TYPE!r} "
                              "(expected a SpatialRGPT / VILA llava_llama checkpoint)")
        raw: dict[str, dict] = {}
        for name in COMPONENTS:
            raw_entry = top.get(f"{name}_cfg")
            sub = folder / name / "config.json"
            if sub.is_file():
                raw[name] = _read_json(sub)
            elif isinstance(raw_entry, dict):
                raw[name] = copy.deepcopy(raw_entry)
            elif name == "region_extractor" and not top.get("enable_region", False):
                continue
            else:
                raise ConfigError(f"{folder}: component {name!r} has neither {name}/config.json nor a nested {name}_cfg dict")
        return cls(top=top, llm=LlamaConfig(**_without_meta(raw["llm"])),
                   vision_tower=SiglipVisionConfig(**_without_meta(raw["vision_tower"])),
                   mm_projector=raw["mm_projector"], region_extractor=raw.get("region_extractor"), _raw_components=raw)

    # ------------------------------------------------------------------ serialisation
    def component_dict(self, name: str) -> Optional[dict]:
        """The dict written to ``name/config.json`` (the loaded one verbatim when unchanged)."""
        if name == "llm":
            return self._raw_components.get("llm") or self.llm.to_dict()
        if name == "vision_tower":
            return self._raw_components.get("vision_tower") or self.vision_tower.to_dict()
        if name == "mm_projector":
            return self.mm_projector
        if name == "region_extractor":
            return self.region_extractor
        raise KeyError(name)

    def to_dict(self) -> dict:
        """Top-level config.json content, each ``*_cfg`` holding its component dict."""
        out = copy.deepcopy(self.top)
        for name in COMPONENTS:
            sub = self.component_dict(name)
            if sub is not None:
                out[f"{name}_cfg"] = copy.deepcopy(sub)
        return out

    def save_pretrained(self, folder: str | Path) -> None:
        """Write config.json and the component configs in the reference layout."""
        folder = Path(folder)
        _write_json(folder / "config.json", self.to_dict())
        for name in COMPONENTS:
            sub = self.component_dict(name)
            if sub is not None:
                _write_json(folder / name / "config.json", sub)


def _without_meta(d: dict) -> dict:
    """Component dict minus keys that transformers' config constructors must not receive twice."""
    return {k: v for k, v in d.items() if k not in ("model_type", "transformers_version")}
