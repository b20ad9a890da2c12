"""Reference passages rendered for a prompt, within a token budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mnemo.core.document_records import ChunkHit
from mnemo.core.tokens import default_token_counter


@dataclass(frozen=True, slots=True)
class DocumentContext:
    """The passages chosen and ``text``, their rendering (``tokens`` long)."""

    chunks: list[ChunkHit]
    text: str
    tokens: int
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        """``{"documents": [...], "context": text, "tokens": n}``."""
        return {
            "documents": [
                {
                    "document": c.document_name,
                    "title": c.document_title,
                    "heading": c.heading,
                    "content": c.content,
                    "score": c.score,
                    "shared": c.shared,
                }
                for c in self.chunks
            ],
            "context": self.text,
            "tokens": self.tokens,
        }


def passage(hit: ChunkHit) -> str:
    """``[title or name]`` on one line, then the chunk (which starts with its heading path)."""
    return f"[{hit.document_title or hit.document_name}]\n{hit.content}"


def render_chunks(hits: Sequence[ChunkHit], *, max_tokens: int | None) -> DocumentContext:
    """Passages best first; one that would pass ``max_tokens`` is left out whole."""
    counter = default_token_counter()
    header = "Reference documents:"
    kept: list[ChunkHit] = []
    parts: list[str] = []
    used = counter.count(header + "\n")
    truncated = False
    for hit in hits:
        block = passage(hit)
        cost = counter.count(block + "\n\n")
        if max_tokens is not None and used + cost > max_tokens:
            truncated = True
            continue
        kept.append(hit)
        parts.append(block)
        used += cost
    text = header + "\n" + "\n\n".join(parts) if parts else ""
    return DocumentContext(kept, text, counter.count(text) if text else 0, truncated)
