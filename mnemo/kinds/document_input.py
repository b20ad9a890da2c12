"""What ``DocumentService.load`` is given, checked and read: a path, or a name with
text or bytes; the format; the chunks; whether anything changed since the last load."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from mnemo.config import DocumentConfig
from mnemo.core.chunking import ChunkedDocument, DocumentFormat, chunk_document
from mnemo.core.document_records import DocumentRecord
from mnemo.core.ids import parse_id
from mnemo.core.validation import require_content
from mnemo.errors import InvalidInput
from mnemo.store.postgres.documents import DocumentWrite

FORMATS: tuple[str, ...] = get_args(DocumentFormat)
MAX_NAME_CHARS = 1_000


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A document to load: its name (the reload key), URI, raw data, and the file
    name its format may be guessed from."""

    name: str
    uri: str | None
    data: str | bytes
    filename: str | None


async def read_source(
    source: object, content: object, filename: str | None, *, max_bytes: int
) -> SourceDocument:
    """The document named by ``source``: read from the file when ``content`` is
    ``None``, else ``content`` itself. ``InvalidInput`` when missing, empty or too big."""
    if content is None:
        if not isinstance(source, (str, Path)) or not str(source).strip():
            raise InvalidInput("source must be a file path when no content is given")
        path, data = await asyncio.to_thread(_read_path, Path(source), max_bytes)
        return SourceDocument(str(path), path.as_uri(), data, filename or path.name)
    name = require_content(source, max_chars=MAX_NAME_CHARS, name="source").strip()
    if not isinstance(content, (str, bytes)):
        raise InvalidInput(f"content must be text or bytes, got {type(content).__name__}")
    size = len(content.encode() if isinstance(content, str) else content)
    if size > max_bytes:
        raise InvalidInput(f"the document has {size} bytes; the limit is {max_bytes}")
    if not content.strip():
        raise InvalidInput("content must not be empty")
    if isinstance(content, str):
        require_content(content, max_chars=max_bytes, name="content")
    return SourceDocument(name, name if "://" in name else None, content, filename or name)


def chunked(source: SourceDocument, fmt: str | None, config: DocumentConfig) -> ChunkedDocument:
    """The document's chunks (CPU-bound: run it in a thread). ``InvalidInput`` when it
    cannot be parsed, has no text, or gives more than ``config.max_chunks`` chunks."""
    document = chunk_document(
        source.data,
        filename=source.filename,
        fmt=fmt,  # type: ignore[arg-type]  # checked by require_format
        target_tokens=config.target_tokens,
        overlap_tokens=config.overlap_tokens,
    )
    if not document.chunks:
        raise InvalidInput("the document has no text to index")
    if len(document.chunks) > config.max_chunks:
        raise InvalidInput(
            f"the document gives {len(document.chunks)} chunks; the limit is {config.max_chunks}"
        )
    return document


def _read_path(source: Path, max_bytes: int) -> tuple[Path, bytes]:
    """The resolved path and the bytes of a file to load (``InvalidInput`` if unusable)."""
    path = source.expanduser().resolve()
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    if path.stat().st_size > max_bytes:
        raise InvalidInput(f"{path} is larger than the {max_bytes}-byte limit")
    data = path.read_bytes()
    if not data.strip():
        raise InvalidInput(f"{path} is empty")
    return path, data


def require_format(value: object) -> str | None:
    """A known format name (lower-cased), or ``None`` to detect it."""
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in FORMATS:
        raise InvalidInput(f"format must be one of {list(FORMATS)}, got {value!r:.40}")
    return value.lower()


def unchanged(existing: DocumentRecord, write: DocumentWrite, fmt: str | None) -> bool:
    """Whether loading ``write`` would store what ``existing`` already holds."""
    return (
        existing.content_hash == write.content_hash.hex()
        and (fmt is None or existing.format == fmt)
        and existing.metadata == write.metadata
        and (write.title is None or existing.title == write.title)
        and (existing.agent_id, existing.session_id) == (write.agent_id, write.session_id)
    )


def described(write: DocumentWrite, document: ChunkedDocument, title: str | None) -> DocumentWrite:
    """``write`` with the parsed format, a title (given, the document's own, else its
    first heading) and the size of its text."""
    chunked = document
    first_heading = next((c.heading_path[0] for c in chunked.chunks if c.heading_path), None)
    return DocumentWrite(
        write.id,
        write.name,
        write.uri,
        chunked.format,
        title or chunked.title or first_heading,
        write.content_hash,
        len(chunked.text),
        write.metadata,
        write.agent_id,
        write.session_id,
    )


def document_ids(values: Sequence[str] | None) -> list[str] | None:
    """Document ids as UUID strings (``InvalidInput`` for one that is not)."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    return [str(parse_id(v, what="document id")) for v in values]
