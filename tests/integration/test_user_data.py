"""A user's export read back by an import: memories, turns, key-value entries, settings."""

from __future__ import annotations

import asyncio

import pytest

from mnemo import AsyncMemory, InvalidInput


async def exported(memory: AsyncMemory, user_id: str) -> list[dict[str, object]]:
    return [line async for line in memory.export_user(user_id)]


async def test_key_values_and_settings_come_back_with_their_current_value(
    memory: AsyncMemory,
) -> None:
    big = {"notes": ["a long note about the garden"] * 400}  # > 4 kB: stored compressed
    await memory.kv.set("prefs", "theme", {"dark": True}, user_id="kai", session_id="web")
    await memory.kv.set("prefs", "garden", big, user_id="kai", ttl_seconds=3600)
    await memory.kv.set("prefs", "soon-gone", 1, user_id="kai", ttl_seconds=0.2)
    await memory.settings.set("voice_speed", 1.0, user_id="kai")
    await memory.settings.set("voice_speed", 1.2, user_id="kai")
    lines = await exported(memory, "kai")
    rows = {
        line["data"]["key"]: line["data"] for line in lines if line.get("table") == "kv_entries"
    }  # type: ignore[index]
    assert rows["garden"]["value"] is None and str(rows["garden"]["value_z"]).startswith("\\x")
    await asyncio.sleep(0.3)  # "soon-gone" expires between export and import

    result = await memory.import_user("kai-copy", lines)

    assert result["imported"] == {"memories": 0, "kv_entries": 3}
    assert result["skipped"]["kv_entries"] == 1 and result["skipped"]["kv_history"] == 2
    kv = memory.kv
    assert await kv.get("prefs", "theme", user_id="kai-copy", session_id="web") == {"dark": True}
    assert await kv.get("prefs", "theme", user_id="kai-copy") is None  # scope kept
    garden = await kv.entry("prefs", "garden", user_id="kai-copy")
    assert garden is not None and garden.value == big and garden.expires_at is not None
    assert await kv.get("prefs", "soon-gone", user_id="kai-copy") is None
    assert await memory.settings.get("voice_speed", user_id="kai-copy") == 1.2
    history = await memory.settings.history("voice_speed", user_id="kai-copy")
    assert [(h.new, h.actor) for h in history] == [(1.2, "import")]


async def test_an_import_over_existing_keys_or_with_a_broken_value_stores_nothing(
    memory: AsyncMemory,
) -> None:
    await memory.kv.set("prefs", "theme", "light", user_id="lea")
    await memory.add("Lea likes tea", user_id="lea")
    lines = await exported(memory, "lea")
    with pytest.raises(InvalidInput, match="already set"):
        await memory.import_user("lea", lines)
    broken = [
        {**line, "data": {**line["data"], "value": None, "value_z": "\\xnot-hex"}}  # type: ignore[dict-item]
        if line.get("table") == "kv_entries" else line
        for line in lines
    ]  # fmt: skip
    with pytest.raises(InvalidInput, match="unreadable"):
        await memory.import_user("lea-copy", broken)
    assert await memory.list(user_id="lea-copy") == []
    assert await memory.kv.get("prefs", "theme", user_id="lea-copy") is None
