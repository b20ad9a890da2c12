"""Every example under examples/ runs offline, end to end, on a real database.

Each runs as ``python examples/<name>.py`` would, in this process (``runpy``, so the
frameworks are imported once), with ``MNEMO_DATABASE_URL`` naming the test's
database instead of the embedded default.
"""

from __future__ import annotations

import runpy

import pytest

from mnemo import Memory, MnemoConfig
from tests.conftest import repo_root


def run_example(
    name: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    monkeypatch.setenv("MNEMO_DATABASE_URL", database_url)
    runpy.run_path(str(repo_root() / "examples" / f"{name}.py"), run_name="__main__")
    return capsys.readouterr().out


def test_langchain_example(
    database_url: str, config: MnemoConfig, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = run_example("langchain_chat", database_url, monkeypatch, capsys)
    assert "retrieved: - Prefers running early in the morning" in out
    assert "assistant: You said the Lisbon marathon." in out
    assert "mnemo holds 4 turns of session 'morning':" in out
    with Memory(config) as memory:
        turns = memory.list_messages(user_id="example-langchain-user", session_id="morning")
        assert [t.role for t in turns] == ["user", "assistant", "user", "assistant"]


def test_langgraph_langmem_example(
    database_url: str, config: MnemoConfig, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = run_example("langgraph_langmem", database_url, monkeypatch, capsys)
    assert "tool manage_memory: created memory" in out
    assert "Prefers a window seat on long flights" in out.split("tool search_memory:")[1]
    assert "assistant: I booked you a window seat, as you prefer." in out
    with Memory(config) as memory:
        [stored] = memory.list(user_id="example-langgraph-user")
        assert stored.content == "Prefers a window seat on long flights"
        assert stored.metadata["langgraph"]["namespace"] == ["memories", "example-langgraph-user"]


def test_openai_agents_example(
    database_url: str, config: MnemoConfig, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = run_example("openai_agents_session", database_url, monkeypatch, capsys)
    assert "assistant: A mushroom risotto, since you are vegetarian." in out
    assert "the session holds 8 items:" in out
    assert "mnemo's own search: ['The user is vegetarian']" in out
    with Memory(config) as memory:
        turns = memory.list_messages(user_id="example-agents-user", session_id="dinner")
        assert [t.role for t in turns][:4] == ["user", "assistant", "tool", "assistant"]


def test_llamaindex_example(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_example("llamaindex_memory", database_url, monkeypatch, capsys)
    prompt = out.split("retrieved for")[0]
    assert "<mnemo>" in prompt and "- The user's cat is called Miso" in prompt
    assert "[documents] 'Feeding\\n# Feeding\\nAdult cats eat twice a day.'" in out
    assert '[memories] "The user\'s cat is called Miso"' in out
