"""A date named in the query lifts the memories created then (``SearchConfig.context``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from mnemo import AsyncMemory, MnemoConfig
from mnemo.core.context_boosts import ContextBoosts

ITEMS = [
    {"content": "I went hiking in the hills with my brother",
     "created_at": datetime(2023, 1, 20, 10, tzinfo=UTC)},
    {"content": "Up the mountain trail today",
     "created_at": datetime(2023, 10, 13, 18, tzinfo=UTC)},
    {"content": "We painted the kitchen blue",
     "created_at": datetime(2023, 10, 14, 9, tzinfo=UTC)},
]  # fmt: skip


async def test_the_day_named_in_the_question_wins(config: MnemoConfig) -> None:
    question = "Where did I go hiking with my brother on 13 October 2023?"
    dates_only = ContextBoosts(second_neighbour_weight=0)  # the date step alone
    off = replace(config, search=replace(config.search, context=replace(dates_only, date_boost=0)))
    on = replace(config, search=replace(config.search, context=dates_only))
    async with AsyncMemory(off) as memory:
        for item in ITEMS:
            await memory.add(item["content"], user_id="u", created_at=item["created_at"])
        plain = await memory.search(question, user_id="u", limit=3)
    assert plain[0].content.startswith("I went hiking in the hills")  # the closer wording

    async with AsyncMemory(on) as memory:
        dated = await memory.search(question, user_id="u", limit=3)
        undated = await memory.search("Where did I go hiking with my brother?", user_id="u")
        slashed = await memory.search(
            "Where did I go hiking with my brother on 10/13/2023?", user_id="u", limit=3
        )
        relative = await memory.search(
            "Where did I go hiking with my brother yesterday?", user_id="u",
            as_of=datetime(2023, 10, 14, 12, tzinfo=UTC),
        )  # fmt: skip
    assert dated[0].content.startswith("Up the mountain trail")
    lifted = {hit.content.split()[0]: hit.scores["context"] for hit in dated}
    assert lifted == {"Up": 2.0, "We": 2.0, "I": 0.0}  # 13 and 14 October are in the window
    assert undated[0].content.startswith("I went hiking in the hills")
    assert [hit.content for hit in slashed] == [hit.content for hit in dated]
    assert relative[0].content.startswith("Up the mountain trail")
