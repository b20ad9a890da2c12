"""What every provider format shares: content parts, texts, tool arguments, patches.

A provider message is stored as a mnemo turn (role, text, tool calls, tool
results) plus a ``source``: the format's name, the message's content parts
with their texts taken out (``parts``; the texts are the turn's content,
joined by newlines, cut back apart by ``text_lengths``), and a ``patch``: what
the message has that building it again from the turn would not give back.
Building the message from the turn and applying the patch gives the message
exactly as it came, so nothing is stored twice and nothing is lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mnemo.errors import InvalidInput

__all__ = [
    "SEPARATOR",
    "Parts",
    "apply_patch",
    "dump_arguments",
    "make_patch",
    "parse_arguments",
    "require_fields",
    "require_text",
    "split_texts",
]

SEPARATOR = "\n"
_VALUE, _DICT, _LIST, _DROP = "$v", "$d", "$l", "$x"


class Parts:
    """A message's content parts read once: the texts (the turn's content) and the
    parts with their payloads taken out (the turn's ``source["parts"]``)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.skeleton: list[dict[str, Any]] = []

    def text(self, part: Mapping[str, Any], key: str, where: str) -> None:
        """A text part: its text joins the content, the rest stays in the skeleton."""
        self.texts.append(require_text(part.get(key), f"{where}.{key}"))
        self.skeleton.append({k: v for k, v in part.items() if k != key})

    def held(self, part: Mapping[str, Any], keys: Sequence[str]) -> None:
        """A part whose ``keys`` a tool call or result holds: only the rest stays."""
        self.skeleton.append({k: v for k, v in part.items() if k not in keys})

    def whole(self, part: Mapping[str, Any]) -> None:
        """A part kept as it is (an image, a file, a reasoning block)."""
        self.skeleton.append(dict(part))

    @property
    def content(self) -> str:
        return SEPARATOR.join(self.texts)

    def source(self) -> dict[str, Any]:
        """The ``parts`` and, for more than one text, ``text_lengths`` of a source."""
        out: dict[str, Any] = {"parts": self.skeleton}
        if len(self.texts) > 1:
            out["text_lengths"] = [len(t) for t in self.texts]
        return out


def split_texts(content: str, lengths: Sequence[int] | None) -> Iterator[str]:
    """The texts ``Parts.content`` joined, cut apart again (more texts are empty)."""
    if not lengths:
        yield content
    else:
        start = 0
        for length in lengths:
            yield content[start : start + length]
            start += length + len(SEPARATOR)
    while True:
        yield ""


def make_patch(original: Any, built: Any) -> Any:
    """What turns ``built`` into ``original`` (``None``: they are the same)."""
    if _same(original, built):
        return None
    if isinstance(original, dict) and isinstance(built, dict):
        changes: dict[str, Any] = {}
        for key, value in original.items():
            sub = make_patch(value, built[key]) if key in built else {_VALUE: value}
            if sub is not None:
                changes[key] = sub
        changes.update({key: {_DROP: 1} for key in built if key not in original})
        return {_DICT: changes}
    if isinstance(original, list) and isinstance(built, list) and len(original) == len(built):
        pairs = enumerate(zip(original, built, strict=True))
        items = {str(i): make_patch(o, b) for i, (o, b) in pairs}
        return {_LIST: {i: p for i, p in items.items() if p is not None}}
    return {_VALUE: original}


def apply_patch(built: Any, patch: Any) -> Any:
    """``built`` with ``patch`` (from ``make_patch``) applied."""
    if patch is None:
        return built
    if _VALUE in patch:
        return patch[_VALUE]
    if _DICT in patch:
        out = dict(built)
        for key, sub in patch[_DICT].items():
            if _DROP in sub:
                out.pop(key, None)
            else:
                out[key] = apply_patch(out.get(key), sub)
        return out
    items = list(built)
    for index, sub in patch[_LIST].items():
        items[int(index)] = apply_patch(items[int(index)], sub)
    return items


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def parse_arguments(raw: object, where: str) -> Any:
    """A tool call's JSON ``arguments`` string, parsed; ``InvalidInput`` naming ``where``."""
    if not isinstance(raw, str):
        raise InvalidInput(f"{where} must be a JSON string, got {type(raw).__name__}")
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise InvalidInput(f"{where} is not valid JSON: {exc}") from None


def dump_arguments(value: Any) -> str:
    """Arguments as a provider's JSON string (a string is taken as already encoded)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def require_text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be a string, got {type(value).__name__}")
    return value


def require_fields(item: Mapping[str, Any], names: Sequence[str], where: str) -> None:
    """``InvalidInput`` naming the first of ``names`` that ``item`` lacks."""
    for name in names:
        if item.get(name) is None:
            raise InvalidInput(f"{where} needs '{name}'")
