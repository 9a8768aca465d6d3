"""Line numbers of nested keys, looked up on demand.

The fast loader keeps only where each document starts; when a finding needs the line
of a particular key (``spec.upgrade.force``), the file is composed once more and the key
is found by walking its nodes. Results are cached per file.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=256)
def _roots(path: str, mtime: float) -> tuple[Any, ...]:
    del mtime  # part of the cache key only
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
        return tuple(n for n in yaml.compose_all(text, Loader=_Loader) if n is not None)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ()


def key_line(root: Path, file: str, doc_line: int, keys: Sequence[str | int]) -> int | None:
    """1-based line of ``keys`` inside the document of ``file`` starting at ``doc_line``."""
    path = root / file
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    for node in _roots(str(path), mtime):
        if node.start_mark.line + 1 != doc_line:
            continue
        best: int = int(node.start_mark.line) + 1
        for key in keys:
            child = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                        child, best = v, int(k.start_mark.line) + 1
                        break
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(key, int)
                and 0 <= key < len(node.value)
            ):
                child = node.value[key]
                best = int(child.start_mark.line) + 1
            if child is None:
                return best
            node = child
        return best
    return None
