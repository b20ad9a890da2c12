"""Chunking of reference documents: text, Markdown, HTML, JSON/YAML, OpenAPI, PDF.

Every format is first turned into a plain *document text* and a list of
sections, each with its heading path; each section is then cut into chunks of
about ``target_tokens`` tokens with ``overlap_tokens`` of overlap. Contracts:

- ``chunk.text == document.text[chunk.char_start:chunk.char_end]``;
- a chunk never splits a word, and never crosses a section boundary;
- a chunk has at most ``target_tokens`` tokens, unless it is a single word
  longer than that;
- ``heading_path`` is the chain of headings above the chunk
  (``("Install", "Linux")``, shown as ``"Install > Linux"``).

Markdown sections follow ATX (``#``) and setext headings outside code fences.
HTML is reduced to Markdown-like text with the standard library's
``html.parser`` (scripts, styles and navigation dropped, headings kept).
OpenAPI specs give one section per operation (method, path, summary,
parameters, request body, responses) and one per schema; other JSON/YAML is
split by top-level key. YAML needs PyYAML and PDF needs pypdf; both are
imported only when used.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Literal

from mnemo.core.tokens import TokenCounter, default_token_counter
from mnemo.errors import ConfigurationError, InvalidInput

__all__ = ["Chunk", "ChunkedDocument", "DocumentFormat", "chunk_document", "detect_format"]

DocumentFormat = Literal["text", "markdown", "html", "json", "yaml", "openapi", "pdf"]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document; offsets index :attr:`ChunkedDocument.text`."""

    text: str
    index: int
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    tokens: int

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)

    def text_with_heading(self) -> str:
        """The text to embed: heading path on the first line when there is one."""
        return f"{self.heading}\n{self.text}" if self.heading_path else self.text


@dataclass(frozen=True, slots=True)
class ChunkedDocument:
    """The document's plain text (what offsets point into) and its chunks."""

    format: DocumentFormat
    text: str
    chunks: tuple[Chunk, ...]
    title: str | None = None


@dataclass(frozen=True, slots=True)
class _Section:
    heading_path: tuple[str, ...]
    start: int
    end: int


# ---------------------------------------------------------------- detection

_EXTENSIONS: dict[str, DocumentFormat] = {
    "md": "markdown", "markdown": "markdown", "mdx": "markdown", "html": "html",
    "htm": "html", "xhtml": "html", "json": "json", "yaml": "yaml", "yml": "yaml",
    "pdf": "pdf", "txt": "text", "text": "text", "rst": "text", "log": "text",
}  # fmt: skip
_MARKDOWN_HINT = re.compile(r"^(#{1,6}\s|```|~~~|[-*]\s|\d+\.\s|>\s)|\[[^\]]+\]\([^)]+\)", re.M)


def detect_format(filename: str | None, content: str | bytes) -> DocumentFormat:
    """The document's format from its file extension, else by sniffing content.

    JSON and YAML documents that are OpenAPI/Swagger specs report ``"openapi"``.
    """
    if isinstance(content, bytes) and content.lstrip()[:5] == b"%PDF-":
        return "pdf"
    text = _decode(content) if isinstance(content, bytes) else content
    extension = filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    by_name = _EXTENSIONS.get(extension)
    if by_name in ("json", "yaml"):
        return "openapi" if _is_openapi(_load_structured(text, by_name)) else by_name
    return by_name or _sniff(text)


def _sniff(text: str) -> DocumentFormat:
    head = text.lstrip()[:512].lower()
    if head.startswith(("<!doctype html", "<html")) or "<body" in head:
        return "html"
    if head.startswith(("{", "[")):
        try:
            return "openapi" if _is_openapi(json.loads(text)) else "json"
        except ValueError:
            pass
    if re.match(r"(openapi|swagger)\s*:", head):
        return "openapi"
    return "markdown" if len(_MARKDOWN_HINT.findall(text[:20000])) >= 2 else "text"


def _is_openapi(data: Any) -> bool:
    return isinstance(data, dict) and ("openapi" in data or "swagger" in data) and "paths" in data


# ---------------------------------------------------------------- entry point


def chunk_document(
    content: str | bytes,
    *,
    filename: str | None = None,
    fmt: DocumentFormat | None = None,
    target_tokens: int = 400,
    overlap_tokens: int = 50,
    counter: TokenCounter | None = None,
) -> ChunkedDocument:
    """Split a document into chunks (see the module docstring for the contracts).

    ``fmt`` overrides :func:`detect_format`. Raises :class:`InvalidInput` for
    unparseable JSON/YAML/PDF or bad sizes, :class:`ConfigurationError` when
    YAML or PDF support is not installed.
    """
    if target_tokens < 1 or not 0 <= overlap_tokens < target_tokens:
        raise InvalidInput("need target_tokens >= 1 and 0 <= overlap_tokens < target_tokens")
    fmt = fmt or detect_format(filename, content)
    text, sections, title = _sections(fmt, content)
    counter = counter or default_token_counter()
    chunks: list[Chunk] = []
    for section in sections:
        for start, end in _windows(text, section, target_tokens, overlap_tokens, counter):
            piece = text[start:end]
            tokens = counter.count(piece)
            chunks.append(Chunk(piece, len(chunks), section.heading_path, start, end, tokens))
    return ChunkedDocument(fmt, text, tuple(chunks), title)


def _sections(fmt: DocumentFormat, content: str | bytes) -> tuple[str, list[_Section], str | None]:
    if fmt == "pdf":
        return _pdf_sections(content if isinstance(content, bytes) else content.encode())
    text = _decode(content) if isinstance(content, bytes) else content
    if fmt == "markdown":
        return text, _markdown_sections(text), None
    if fmt == "html":
        plain, title = _html_to_text(text)
        return plain, _markdown_sections(plain, title), title
    if fmt in ("json", "yaml", "openapi"):
        kind = "yaml" if _looks_yaml(text) else "json"
        data = _load_structured(text, kind)
        blocks = _openapi_blocks(data) if _is_openapi(data) else _structured_blocks(data, kind)
        return _join_blocks(blocks)
    return text, [_Section((), 0, len(text))], None


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace")


# ---------------------------------------------------------------- windows


_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]]*$")


def _windows(
    text: str, section: _Section, target: int, overlap: int, counter: TokenCounter
) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of word-aligned chunks of one section."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, section.start, section.end)]
    costs = [counter.count(" " + text[a:b]) for a, b in words]
    i = 0
    while i < len(words):
        j = _window_end(text, words, costs, i, target)
        while j - 1 > i and counter.count(text[words[i][0] : words[j - 1][1]]) > target:
            j -= 1
        yield words[i][0], words[j - 1][1]
        if j >= len(words):
            return
        i = _next_start(costs, i, j, overlap)


def _window_end(
    text: str, words: Sequence[tuple[int, int]], costs: Sequence[int], i: int, target: int
) -> int:
    """Exclusive end of the window from word ``i``: as far as the target allows,
    pulled back to the best break (paragraph > line > sentence) in its last half."""
    total, j = costs[i], i + 1
    while j < len(words) and total + costs[j] <= target:
        total += costs[j]
        j += 1
    if j >= len(words):
        return j
    best, best_rank = j, 0
    for k in range(j - 1, i + (j - i) // 2, -1):
        gap = text[words[k - 1][1] : words[k][0]]
        rank = 3 if gap.count("\n") >= 2 else 2 if "\n" in gap else 0
        if not rank and _SENTENCE_END.search(text[words[k - 1][0] : words[k - 1][1]]):
            rank = 1
        if rank > best_rank:
            best, best_rank = k, rank
    return best


def _next_start(costs: Sequence[int], i: int, j: int, overlap: int) -> int:
    """First word of the next window: back from ``j`` by up to ``overlap`` tokens."""
    k, carried = j, 0
    while k - 1 > i and carried + costs[k - 1] <= overlap:
        k -= 1
        carried += costs[k]
    return k


# ---------------------------------------------------------------- markdown

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _markdown_sections(text: str, root: str | None = None) -> list[_Section]:
    """One section per heading (the heading line included), nested by level."""
    base = (root,) if root else ()
    stack: list[tuple[int, str]] = []
    sections = [_Section(base, 0, 0)]
    for level, title, offset in _headings(text):
        sections[-1] = _Section(sections[-1].heading_path, sections[-1].start, offset)
        stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, title)]
        sections.append(_Section(base + tuple(t for _, t in stack), offset, len(text)))
    if len(sections) == 1:
        sections[0] = _Section(base, 0, len(text))
    return [s for s in sections if text[s.start : s.end].strip()]


def _headings(text: str) -> Iterator[tuple[int, str, int]]:
    """(level, title, line offset) of each heading outside code fences."""
    lines = text.splitlines(keepends=True)
    offset, fenced, previous = 0, False, ("", 0)
    for line in lines:
        stripped = line.rstrip("\r\n")
        if _FENCE.match(stripped):
            fenced = not fenced
        elif not fenced and (atx := _ATX.match(stripped)):
            yield len(atx.group(1)), atx.group(2).strip(), offset
        elif not fenced and (level := _setext_level(stripped, previous[0])):
            yield level, previous[0].strip(), previous[1]
        previous = (stripped, offset)
        offset += len(line)


def _setext_level(line: str, previous: str) -> int:
    """1 or 2 when ``line`` underlines ``previous`` as a setext heading, else 0."""
    if not _SETEXT.match(line) or not previous.strip() or _ATX.match(previous):
        return 0
    if re.match(r"^\s*([-*+]\s|```|~~~)", previous):
        return 0
    return 1 if line.strip().startswith("=") else 2


# ---------------------------------------------------------------- html

_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "nav", "head", "iframe"})
_BLOCK_TAG_NAMES = (
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer form "
    "header hr main ol p section table tbody thead tfoot tr ul br"
)
_BLOCK_TAGS = frozenset(_BLOCK_TAG_NAMES.split())


class _HtmlText(HTMLParser):
    """HTML → Markdown-like text: ``#`` headings, ``-`` list items, blank-line blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._pre = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP_TAGS:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "pre":
            self._pre += 1
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag != "br" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self.parts.append("\n\n")
        elif re.fullmatch(r"h[1-6]", tag) or tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._pre and not self._skip:
            self.parts.append(data)
        elif not self._skip:
            collapsed = re.sub(r"\s+", " ", data)
            at_line_start = not self.parts or self.parts[-1].endswith("\n")
            self.parts.append(collapsed.lstrip() if at_line_start else collapsed)


def _html_to_text(html: str) -> tuple[str, str | None]:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, (" ".join(parser.title.split()) or None)


# ---------------------------------------------------------------- json / yaml / openapi

_Block = tuple[tuple[str, ...], str]


def _looks_yaml(text: str) -> bool:
    return not text.lstrip().startswith(("{", "["))


def _load_structured(text: str, kind: str) -> Any:
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"not valid JSON: {exc}") from exc
    try:
        import yaml
    except ImportError as exc:
        raise ConfigurationError("reading YAML needs PyYAML: pip install 'mnemo[yaml]'") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}") from exc


def _join_blocks(blocks: Sequence[_Block]) -> tuple[str, list[_Section], str | None]:
    """Concatenate rendered blocks into one document text, one section each."""
    parts: list[str] = []
    sections: list[_Section] = []
    offset = 0
    for path, body in blocks:
        if parts:
            parts.append("\n\n")
            offset += 2
        parts.append(body)
        sections.append(_Section(path, offset, offset + len(body)))
        offset += len(body)
    return "".join(parts), [s for s in sections if s.end > s.start], None


def _structured_blocks(data: Any, kind: str) -> list[_Block]:
    """Generic JSON/YAML: one block per top-level key (or list item), values
    rendered in the source's own syntax."""
    if isinstance(data, dict):
        return [((str(k),), f"{k}:\n{_dump(v, kind)}") for k, v in data.items()]
    if isinstance(data, list):
        return [((f"[{i}]",), _dump(v, kind)) for i, v in enumerate(data)]
    return [((), _dump(data, kind))]


def _dump(value: Any, kind: str) -> str:
    if isinstance(value, str):
        return value
    if kind == "yaml":
        import yaml

        dumped: str = yaml.safe_dump(value, allow_unicode=True, sort_keys=False)
        return dumped.rstrip()
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _openapi_blocks(spec: dict[str, Any]) -> list[_Block]:
    info = spec.get("info") or {}
    title = str(info.get("title") or "API")
    blocks: list[_Block] = [((title,), _render_info(spec, title))]
    for path, item in (spec.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = (item or {}).get(method)
            if isinstance(operation, dict):
                shared = item.get("parameters") or []
                tag = (operation.get("tags") or [None])[0]
                heading = (title, *([str(tag)] if tag else []), f"{method.upper()} {path}")
                body = _render_operation(spec, method, path, operation, shared)
                blocks.append((heading, body))
    schemas = (spec.get("components") or {}).get("schemas") or spec.get("definitions") or {}
    for name, schema in schemas.items():
        blocks.append(((title, "Schemas", str(name)), _render_schema(spec, str(name), schema)))
    return blocks


def _render_info(spec: dict[str, Any], title: str) -> str:
    info = spec.get("info") or {}
    lines = [f"{title} {info.get('version', '')}".strip()]
    if info.get("description"):
        lines.append(str(info["description"]).strip())
    servers = [s.get("url") for s in spec.get("servers") or [] if isinstance(s, dict)]
    if servers:
        lines.append("Servers: " + ", ".join(str(s) for s in servers))
    return "\n".join(lines)


def _render_operation(
    spec: dict[str, Any], method: str, path: str, op: dict[str, Any], shared: list[Any]
) -> str:
    lines = [f"{method.upper()} {path}"]
    for key, label in (("summary", "Summary"), ("description", "Description")):
        if op.get(key):
            lines.append(f"{label}: {str(op[key]).strip()}")
    if op.get("operationId"):
        lines.append(f"Operation ID: {op['operationId']}")
    if op.get("tags"):
        lines.append("Tags: " + ", ".join(str(t) for t in op["tags"]))
    parameters = [_resolve(spec, p) for p in [*shared, *(op.get("parameters") or [])]]
    if parameters:
        lines.append("Parameters:")
        lines += [_render_parameter(spec, p) for p in parameters if isinstance(p, dict)]
    body = _resolve(spec, op.get("requestBody") or {})
    if body.get("content"):
        for media, content in body["content"].items():
            schema = _schema_name(spec, (content or {}).get("schema"))
            lines.append(f"Request body ({media}): {schema}".rstrip(": "))
    if op.get("responses"):
        lines.append("Responses:")
        for status, response in op["responses"].items():
            response = _resolve(spec, response or {})
            lines.append(f"- {status}: {str(response.get('description', '')).strip()}".rstrip())
    return "\n".join(lines)


def _render_parameter(spec: dict[str, Any], p: dict[str, Any]) -> str:
    schema = p.get("schema") or {"type": p.get("type")}
    kind = _schema_name(spec, schema) or "any"
    flags = ", ".join(x for x in (p.get("in"), "required" if p.get("required") else "", kind) if x)
    description = str(p.get("description", "")).strip()
    return f"- {p.get('name', '?')} ({flags})" + (f": {description}" if description else "")


def _render_schema(spec: dict[str, Any], name: str, schema: Any) -> str:
    schema = _resolve(spec, schema or {})
    lines = [f"Schema {name}" + (f": {schema['description']}" if schema.get("description") else "")]
    required = set(schema.get("required") or [])
    for prop, detail in (schema.get("properties") or {}).items():
        detail = detail if isinstance(detail, dict) else {}
        kind = _schema_name(spec, detail) or "any"
        flag = ", required" if prop in required else ""
        text = f"- {prop} ({kind}{flag})"
        lines.append(text + (f": {detail['description']}" if detail.get("description") else ""))
    return "\n".join(lines)


def _schema_name(spec: dict[str, Any], schema: Any) -> str:
    """A short type: the referenced schema's name, ``array of X``, or the type."""
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"array of {_schema_name(spec, schema.get('items')) or 'any'}"
    return str(schema.get("type") or "")


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow one local ``$ref`` (``#/components/...``); other nodes unchanged."""
    if not (isinstance(node, dict) and str(node.get("$ref", "")).startswith("#/")):
        return node
    target: Any = spec
    for part in str(node["$ref"])[2:].split("/"):
        target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        if not isinstance(target, dict):
            return {}
    return target


# ---------------------------------------------------------------- pdf


def _pdf_sections(data: bytes) -> tuple[str, list[_Section], str | None]:
    """Text of each page (pypdf), one section per page headed ``Page N``."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:
        raise ConfigurationError("reading PDF needs pypdf: pip install 'mnemo[pdf]'") from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError) as exc:
        raise InvalidInput(f"not a readable PDF: {exc}") from exc
    text, sections, _ = _join_blocks([((f"Page {i}",), p.strip()) for i, p in enumerate(pages, 1)])
    return text, sections, title or None
