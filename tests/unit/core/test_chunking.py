"""Document chunking: formats, heading paths, offsets, sizes, overlap, no split words."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnemo.core.chunking import ChunkedDocument, chunk_document, detect_format
from mnemo.core.tokens import default_token_counter
from mnemo.errors import InvalidInput

DOCS = Path(__file__).parents[2] / "data" / "docs"


def load(name: str) -> ChunkedDocument:
    return chunk_document((DOCS / name).read_bytes(), filename=name)


def assert_contracts(doc: ChunkedDocument, target: int) -> None:
    for i, chunk in enumerate(doc.chunks):
        assert chunk.index == i
        assert doc.text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert chunk.tokens == default_token_counter().count(chunk.text)
        assert chunk.tokens <= target or len(chunk.text.split()) == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("guide.md", "markdown"),
        ("page.html", "html"),
        ("petstore.yaml", "openapi"),
        ("settings.json", "json"),
        ("settings.yaml", "yaml"),
        ("notes.txt", "text"),
        ("manual.pdf", "pdf"),
    ],
)
def test_detect_format_by_name_and_by_content(name: str, expected: str) -> None:
    content = (DOCS / name).read_bytes()
    assert detect_format(name, content) == expected
    sniffed = detect_format(None, content)
    # YAML without an OpenAPI marker cannot be told from plain text by content.
    assert sniffed == ("text" if name == "settings.yaml" else expected)


def test_markdown_sections_carry_heading_paths() -> None:
    doc = load("guide.md")
    assert [c.heading for c in doc.chunks] == [
        "Install",
        "Install > Linux",
        "Install > macOS",
        "Usage",
        "Usage > Search",
    ]
    linux = doc.chunks[1]
    assert "# this is a comment, not a heading" in linux.text
    assert linux.text_with_heading().startswith("Install > Linux\n## Linux")
    assert_contracts(doc, 400)


def test_html_drops_scripts_styles_nav_and_keeps_headings() -> None:
    doc = load("page.html")
    assert doc.title == "mnemo & friends"
    assert "secret" not in doc.text
    assert "alert" not in doc.text
    assert "color: red" not in doc.text
    assert "Home" not in doc.text
    assert "mnemo keeps long-term memory for LLM apps." in doc.text
    assert "- Run pip install mnemo\n- Start the service" in doc.text
    assert "\n  indented line" in doc.text
    assert [c.heading_path[-1] for c in doc.chunks] == ["Getting started", "Install", "Configure"]
    assert_contracts(doc, 400)


def test_openapi_one_chunk_per_operation() -> None:
    doc = load("petstore.yaml")
    headings = [c.heading for c in doc.chunks]
    assert headings == [
        "Swagger Petstore",
        "Swagger Petstore > pets > GET /pets",
        "Swagger Petstore > pets > POST /pets",
        "Swagger Petstore > GET /pets/{petId}",
        "Swagger Petstore > Schemas > Pet",
    ]
    list_pets, create_pet, show_pet = doc.chunks[1].text, doc.chunks[2].text, doc.chunks[3].text
    assert "Summary: List all pets" in list_pets
    assert "- limit (query, integer): How many items" in list_pets
    assert "Request body (application/json): Pet" in create_pet
    assert "- petId (path, required, string): The id of the pet" in show_pet
    assert "- 200: Expected response to a valid request" in show_pet
    assert "- name (string, required): The pet's name" in doc.chunks[4].text


def test_openapi_in_json_is_detected_too() -> None:
    spec = '{"openapi": "3.1.0", "info": {"title": "T"}, "paths": {"/a": {"delete": {}}}}'
    doc = chunk_document(spec)
    assert doc.format == "openapi"
    assert [c.heading for c in doc.chunks] == ["T", "T > DELETE /a"]


def test_generic_json_and_yaml_split_by_top_level_key() -> None:
    as_json = load("settings.json")
    assert [c.heading for c in as_json.chunks] == ["voice", "personality", "prompts"]
    assert '"name": "Ava"' in as_json.chunks[0].text
    as_yaml = load("settings.yaml")
    assert [c.heading for c in as_yaml.chunks] == ["voice", "personality"]
    assert as_yaml.chunks[0].text == "voice:\nname: Ava\nspeed: 1.1"
    listed = chunk_document("[1, 2]", fmt="json")
    assert [c.heading for c in listed.chunks] == ["[0]", "[1]"]


def test_pdf_pages() -> None:
    if importlib.util.find_spec("pypdf") is None:
        pytest.skip("pypdf (the pdf extra) is not installed")
    doc = load("manual.pdf")
    assert doc.title == "Device Manual"
    assert [c.heading for c in doc.chunks] == ["Page 1", "Page 2"]
    assert "Press the power button" in doc.chunks[0].text
    with pytest.raises(InvalidInput):
        chunk_document(b"%PDF-1.4 broken", fmt="pdf")


def test_plain_text_windows_overlap_and_prefer_sentence_ends() -> None:
    sentences = [f"Sentence number {i} talks about topic {i % 7}." for i in range(200)]
    doc = chunk_document(" ".join(sentences), target_tokens=50, overlap_tokens=10)
    assert len(doc.chunks) > 10
    assert_contracts(doc, 50)
    for before, after in zip(doc.chunks, doc.chunks[1:], strict=False):
        assert after.char_start < before.char_end  # overlap
        assert after.char_start > before.char_start  # progress
    assert sum(c.text.endswith(".") for c in doc.chunks[:-1]) >= len(doc.chunks) // 2


def test_no_overlap_covers_every_word_once() -> None:
    text = " ".join(f"w{i}" for i in range(500))
    doc = chunk_document(text, target_tokens=30, overlap_tokens=0)
    assert " ".join(c.text for c in doc.chunks) == text


def test_a_single_overlong_word_is_kept_whole() -> None:
    word = "x" * 3000
    doc = chunk_document(f"short {word} tail", target_tokens=20, overlap_tokens=5)
    assert word in [c.text for c in doc.chunks]


def test_bad_arguments_and_input() -> None:
    with pytest.raises(InvalidInput):
        chunk_document("text", target_tokens=10, overlap_tokens=10)
    with pytest.raises(InvalidInput):
        chunk_document("{not json", fmt="json")
    assert chunk_document("   ").chunks == ()


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab #\n.é-"), max_size=400),
    st.integers(min_value=2, max_value=40),
    st.data(),
)
def test_contracts_hold_for_any_markdown(text: str, target: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(min_value=0, max_value=target - 1))
    doc = chunk_document(text, fmt="markdown", target_tokens=target, overlap_tokens=overlap)
    assert_contracts(doc, target)
    covered = {m for c in doc.chunks for m in range(c.char_start, c.char_end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
