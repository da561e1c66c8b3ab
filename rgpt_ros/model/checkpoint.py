"""Checkpoint folders in the reference layout: locating them (offline-aware) and reading/writing weights.

Layout: ``config.json`` + ``llm/`` (sharded safetensors + ``model.safetensors.index.json`` + tokenizer),
``vision_tower/model.safetensors``, ``mm_projector/model.safetensors``, ``region_extractor/model.safetensors``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator, Mapping, Optional

import torch
from safetensors import safe_open
from safetensors.torch import save_file

WEIGHTS_NAME = "model.safetensors"
INDEX_NAME = "model.safetensors.index.json"
DEFAULT_SHARD_BYTES = 5 * 1024**3


class CheckpointError(ValueError):
    """A checkpoint that is absent, incomplete or not a SpatialRGPT checkpoint."""


def offline_mode() -> bool:
    """True when HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE asks for no network access."""
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def resolve_checkpoint(path_or_hub_id: str | os.PathLike, local_files_only: Optional[bool] = None,
                       cache_dir: Optional[str | os.PathLike] = None) -> Path:
    """A local folder, or a hub id fetched with huggingface_hub (cache only when offline; default cache).

    Raises CheckpointError naming the id when it is neither a folder nor available.
    """
    path = Path(path_or_hub_id).expanduser()
    if path.is_dir():
        return path
    text = str(path_or_hub_id)
    if path.exists() or text.startswith((".", "/", "~")) or text.count("/") != 1:
        raise CheckpointError(f"checkpoint {text!r} is not a folder (and not a hub id 'owner/name')")
    local_only = offline_mode() if local_files_only is None else local_files_only
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id=text, local_files_only=local_only,
                                      cache_dir=str(cache_dir) if cache_dir is not None else None))
    except Exception as exc:  # huggingface_hub raises several unrelated types (offline, 404, network)
        where = "in the local Hugging Face cache (offline mode)" if local_only else "locally or on the hub"
        raise CheckpointError(f"checkpoint {text!r} was not found {where}: {type(exc).__name__}: {exc}. "
                              f"Download it first (huggingface-cli download {text}) or pass a local folder.") from exc


def weight_files(folder: Path) -> list[Path]:
    """The safetensors files of one component folder (single file or sharded with an index)."""
    index = folder / INDEX_NAME
    if index.is_file():
        names = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        files = [folder / name for name in names]
    else:
        files = [folder / WEIGHTS_NAME] if (folder / WEIGHTS_NAME).is_file() else sorted(folder.glob("*.safetensors"))
    missing = [str(f) for f in files if not f.is_file()]
    if not files or missing:
        raise CheckpointError(f"{folder}: weights are missing ({missing or 'no *.safetensors file'}); "
                              "the checkpoint download is incomplete")
    return files


def iter_weights(folder: Path, device: str | torch.device = "cpu") -> Iterator[tuple[str, torch.Tensor]]:
    """(key, tensor) pairs of a component folder, one tensor in memory at a time, loaded onto ``device``."""
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} is missing")
    for file in weight_files(folder):
        with safe_open(str(file), framework="pt", device=str(torch.device(device))) as handle:
            for key in handle.keys():
                yield key, handle.get_tensor(key)


def save_weights(state: Mapping[str, torch.Tensor], folder: Path, max_shard_bytes: int = DEFAULT_SHARD_BYTES) -> None:
    """Write tensors as ``model.safetensors``, or as ``model-0000k-of-0000n.safetensors`` + index when large."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for key, tensor in tensors.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][key] = tensor
        size += nbytes
    metadata = {"format": "pt"}
    if len(shards) == 1:
        save_file(shards[0], str(folder / WEIGHTS_NAME), metadata=metadata)
        return
    weight_map: dict[str, str] = {}
    for i, shard in enumerate(shards, start=1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, str(folder / name), metadata=metadata)
        weight_map.update({key: name for key in shard})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    (folder / INDEX_NAME).write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
