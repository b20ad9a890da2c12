"""Settings against a real PostgreSQL: active values, the history of every change
(who, when, old, new, why), rollback, optimistic concurrency."""

from __future__ import annotations

import pytest

from mnemo import AsyncMemory, Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.asyncio


async def test_active_settings_and_their_history(memory: AsyncMemory) -> None:
    settings = memory.settings
    await settings.set("system_prompt", "You are terse.", user_id="alice", actor="admin")
    await settings.set("voice", {"speed": 1.0, "pitch": "low"}, user_id="alice")
    await settings.set(
        "voice",
        {"speed": 1.25, "pitch": "low"},
        user_id="alice",
        actor="assistant",
        reason="user asked to speak faster",
    )
    await settings.set("personality", "cheerful", user_id="alice")
    assert await settings.active(user_id="alice") == {
        "personality": "cheerful",
        "system_prompt": "You are terse.",
        "voice": {"speed": 1.25, "pitch": "low"},
    }
    voice = await settings.history("voice", user_id="alice")
    assert [(c.version, c.change, c.old, c.new) for c in voice] == [
        (1, "set", None, {"speed": 1.0, "pitch": "low"}),
        (2, "set", {"speed": 1.0, "pitch": "low"}, {"speed": 1.25, "pitch": "low"}),
    ]
    assert (voice[1].actor, voice[1].reason) == ("assistant", "user asked to speak faster")
    assert voice[0].at < voice[1].at
    everything = await settings.history(user_id="alice")
    assert [c.key for c in everything] == ["system_prompt", "voice", "voice", "personality"]
    entry = await settings.entry("voice", user_id="alice")
    assert entry is not None and (entry.version, entry.updated_by) == (2, "assistant")


async def test_rollback_restores_a_version_as_a_new_one(memory: AsyncMemory) -> None:
    settings = memory.settings
    for speed in (1.0, 1.5, 2.0):
        await settings.set("voice_speed", speed, user_id="alice")
    restored = await settings.rollback("voice_speed", 1, user_id="alice", actor="admin")
    assert restored is not None and (restored.value, restored.version) == (1.0, 4)
    assert await settings.get("voice_speed", user_id="alice") == 1.0
    last = (await settings.history("voice_speed", user_id="alice"))[-1]
    assert (last.change, last.old, last.new, last.actor, last.reason) == (
        "rollback",
        2.0,
        1.0,
        "admin",
        "rollback to version 1",
    )
    await settings.delete("voice_speed", user_id="alice", reason="reset")
    assert await settings.get("voice_speed", user_id="alice", default="unset") == "unset"
    back = await settings.rollback("voice_speed", 2, user_id="alice")
    assert back is not None and (back.value, back.version) == (1.5, 6)
    # Rolling back to the deletion deletes the setting again.
    assert await settings.rollback("voice_speed", 5, user_id="alice") is None
    assert await settings.active(user_id="alice") == {}
    changes = [c.change for c in await settings.history("voice_speed", user_id="alice")]
    assert changes == ["set", "set", "set", "rollback", "delete", "rollback", "rollback"]


async def test_rollback_to_a_missing_version_changes_nothing(memory: AsyncMemory) -> None:
    await memory.settings.set("tone", "warm", user_id="alice")
    await memory.kv.set("plain", "k", "unversioned", user_id="alice")
    with pytest.raises(NotFound, match="no recorded version 9"):
        await memory.settings.rollback("tone", 9, user_id="alice")
    with pytest.raises(NotFound, match="no recorded version 1"):
        await memory.settings.rollback("never-set", 1, user_id="alice")
    with pytest.raises(NotFound, match="plain/k has no recorded version 1"):
        await memory.kv.rollback("plain", "k", 1, user_id="alice")
    with pytest.raises(InvalidInput, match="to_version"):
        await memory.settings.rollback("tone", "1", user_id="alice")  # type: ignore[arg-type]
    assert await memory.settings.active(user_id="alice") == {"tone": "warm"}
    assert len(await memory.settings.history("tone", user_id="alice")) == 1
    assert (await memory.kv.entry("plain", "k", user_id="alice")).version == 1  # type: ignore[union-attr]


async def test_a_stale_writer_gets_conflict_and_changes_nothing(memory: AsyncMemory) -> None:
    settings = memory.settings
    seen = await settings.set("prompt", "v1", user_id="alice")
    await settings.set("prompt", "v2", user_id="alice", expected_version=seen.version)
    with pytest.raises(Conflict, match="settings/prompt is at version 2; expected version 1"):
        await settings.set("prompt", "stale", user_id="alice", expected_version=seen.version)
    with pytest.raises(Conflict):
        await settings.rollback("prompt", 1, user_id="alice", expected_version=1)
    assert await settings.get("prompt", user_id="alice") == "v2"
    assert [c.version for c in await settings.history("prompt", user_id="alice")] == [1, 2]


async def test_settings_are_versioned_even_through_the_kv_store(memory: AsyncMemory) -> None:
    await memory.kv.set("settings", "lang", "en", user_id="alice")
    await memory.kv.set("settings", "lang", "fr", user_id="alice")
    assert [c.new for c in await memory.settings.history("lang", user_id="alice")] == ["en", "fr"]
    # A kv key versioned once keeps its history from then on.
    await memory.kv.set("prefs", "k", 1, user_id="alice", versioned=True)
    await memory.kv.set("prefs", "k", 2, user_id="alice")
    await memory.kv.delete("prefs", "k", user_id="alice")
    await memory.kv.set("prefs", "k", 3, user_id="alice")
    changes = await memory.kv.history("prefs", "k", user_id="alice")
    assert [(c.version, c.change, c.new) for c in changes] == [
        (1, "set", 1),
        (2, "set", 2),
        (3, "delete", None),
        (4, "set", 3),
    ]
    await memory.kv.set("prefs", "plain", 1, user_id="alice")
    await memory.kv.set("prefs", "plain", 2, user_id="alice")
    assert await memory.kv.history("prefs", "plain", user_id="alice") == []


async def test_settings_are_scoped_per_agent_and_session(memory: AsyncMemory) -> None:
    await memory.settings.set("persona", "tutor", user_id="alice", agent_id="tutor-bot")
    await memory.settings.set("persona", "coach", user_id="alice", agent_id="coach-bot")
    await memory.settings.set("speed", 2, user_id="alice", agent_id="tutor-bot", session_id="s1")
    assert await memory.settings.active(user_id="alice", agent_id="tutor-bot") == {
        "persona": "tutor"
    }
    assert await memory.settings.active(user_id="alice", agent_id="tutor-bot", session_id="s1") == {
        "speed": 2
    }
    assert await memory.settings.active(user_id="alice") == {}
    assert await memory.settings.history(user_id="alice") == []
    coach = await memory.settings.history("persona", user_id="alice", agent_id="coach-bot")
    assert [c.new for c in coach] == ["coach"]
