"""Reading the YAML data files (scripts, coach rules) so that errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: LibYAML's parser when PyYAML was built with it (several times faster: the desk reads its
#: scripts, coach rules and scenarios as it starts), else the pure-Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that keeps the line of every mapping under ``__line__``."""


def _mapping_with_line(
    loader: yaml.constructor.SafeConstructor, node: yaml.MappingNode
) -> dict[Any, Any]:
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def load_with_lines(path: Path, text: str, error: type[ValueError]) -> Any:
    """The YAML document in ``text``; raises ``error("path:line: …")`` when it is not YAML."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise error(f"{where}: not valid YAML: {exc}") from None
