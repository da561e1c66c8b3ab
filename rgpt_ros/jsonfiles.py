"""Reading JSON files that must hold a list (bench files, training shards) with errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path


def read_json_list(path: Path, error: type[ValueError], what: str) -> list:
    """The JSON list in ``path``; ``error`` (a ValueError subclass) when it is not valid JSON or not a list."""
    try:
        items = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise error(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise error(f"{path} must hold a JSON list of {what}, got {type(items).__name__}")
    return items
