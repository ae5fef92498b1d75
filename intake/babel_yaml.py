"""A Babel extractor for questionnaire YAML: every text a patient reads becomes a message.

babel.cfg names it as ``[intake.babel_yaml.extract: intake/questionnaires/*.yaml]``.
The templates show these texts through ``_(q.text)``, ``_(option.label.text)`` and so on,
so the English text is the msgid and nothing in Python lists the questions again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

TRANSLATABLE_KEYS = frozenset({"title", "intro", "text", "help", "label", "required_message"})


def _walk(node: yaml.Node, context: str) -> Iterator[tuple[int, str, str]]:
    if isinstance(node, yaml.MappingNode):
        ids = {k.value: v.value for k, v in node.value if k.value in ("link_id", "id", "code")}
        where = f"choice {ids['code']} of {context}" if "code" in ids else ids.get("link_id") or ids.get("id") or context
        for key, value in node.value:
            if key.value in TRANSLATABLE_KEYS and isinstance(value, yaml.ScalarNode) and value.value.strip():
                yield value.start_mark.line + 1, value.value, f"{key.value}: {where}"
            else:
                yield from _walk(value, where)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, context)


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict) -> Iterator[tuple[int, str, str, list[str]]]:
    """Yield (line, funcname, message, comments) for each translatable text, as Babel expects."""
    root = yaml.compose(fileobj.read().decode(options.get("encoding", "utf-8")))
    if root is None:
        return
    for line, message, where in _walk(root, ""):
        yield line, "_", message, [where]
