"""Settings, the key-value store and working memory through the synchronous ``Memory``."""

from __future__ import annotations

import pytest

from mnemo import Conflict, InvalidInput, Memory, MnemoConfig, NotFound


def test_sync_settings_kv_and_working_memory(config: MnemoConfig) -> None:
    with Memory(config) as m:
        first = m.settings.set("system_prompt", "Be brief.", user_id="alice", actor="admin")
        m.settings.set("system_prompt", "Be thorough.", user_id="alice", reason="user request")
        assert m.settings.active(user_id="alice") == {"system_prompt": "Be thorough."}
        assert [c.new for c in m.settings.history("system_prompt", user_id="alice")] == [
            "Be brief.",
            "Be thorough.",
        ]
        with pytest.raises(Conflict):
            m.settings.set("system_prompt", "x", user_id="alice", expected_version=first.version)
        assert m.settings.rollback("system_prompt", 1, user_id="alice").value == "Be brief."
        with pytest.raises(NotFound):
            m.settings.rollback("system_prompt", 42, user_id="alice")

        m.kv.set("prefs", "theme", {"dark": True}, user_id="alice", ttl_seconds=60)
        assert m.kv.get("prefs", "theme", user_id="alice") == {"dark": True}
        assert m.kv.namespace_stats(user_id="alice", namespace="prefs")[0].keys == 1
        with pytest.raises(InvalidInput, match="not JSON"):
            m.kv.set("prefs", "bad", object(), user_id="alice")

        result = m.working.put("task", "plan", "draft", user_id="alice", capacity=1)
        assert result.item.key == "plan"
        assert m.working.put("task", "next", "x", user_id="alice", capacity=1).evicted == ("plan",)
        m.working.append_step("task", "looked it up", {"found": 3}, user_id="alice")
        assert [s.position for s in m.working.get_chain("task", user_id="alice")] == [1]
        assert "looked it up" in m.working.context("task", user_id="alice").text
        with pytest.raises(InvalidInput, match="policy"):
            m.working.put("task", "k", 1, user_id="alice", policy="newest")
        assert [i.key for i in m.working.list("task", user_id="alice")] == ["next"]
