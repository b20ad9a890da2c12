"""``mnemo bench recall`` and the protocol under it, on files the tests write (and on the
LoCoMo development data when it is there)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mnemo import AsyncMemory
from mnemo.cli.main import main
from mnemo.evaluation import load_conversations, measure_recall
from tests.conftest import repo_root

TRIP = {
    "session_1": [
        {"speaker": "Ana", "dia_id": "S1:1", "text": "We land in Reykjavik on Friday morning.",
         "date_time": "2024-03-01T09:15:00Z"},
        {"speaker": "Ben", "dia_id": "S1:2", "text": "I booked the blue lagoon for Saturday.",
         "date_time": "2024-03-01 21:40"},
        {"speaker": "Ana", "dia_id": "S1:3", "text": "My camera battery died, I need a charger.",
         "date_time": "March 2, 2024, 8:05 AM"},
    ],
    "session_2": [
        {"speaker": "Ben", "dia_id": "S2:1", "text": "The glacier hike was cancelled by snow.",
         "date_time": "1710000000"},
        {"speaker": "Ana", "dia_id": "S2:2", "text": "We ate lamb soup in a tiny cafe.",
         "date_time": "2024-03-09T19:00:00+01:00"},
    ],
    "qa": [
        {"question": "What did Ben book for Saturday?", "evidence": ["S1:2"],
         "category": "single-hop"},
        {"question": "Why was the glacier hike cancelled?", "evidence": ["S2:1"],
         "category": "inferential"},
        {"question": "What did they eat and where did they land?",
         "evidence": ["S2:2", "S1:1"], "category": "multi-hop"},
    ],
}  # fmt: skip


def write(tmp_path: Path, data: Any, name: str = "trip.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


async def test_every_turn_is_stored_verbatim_with_its_own_date(
    memory: AsyncMemory, tmp_path: Path
) -> None:
    conversations = load_conversations(write(tmp_path, TRIP))
    run = await measure_recall(memory, conversations, user_prefix="b:")

    stored = sorted(await memory.list(user_id="b:trip", limit=100), key=lambda m: m.created_at)
    assert [(m.content, m.metadata["dia_id"]) for m in stored] == [
        (f"{t['speaker']}: {t['text']}", t["dia_id"]) for t in TRIP["session_1"] + TRIP["session_2"]
    ]
    assert [m.created_at for m in stored] == [
        datetime(2024, 3, 1, 9, 15, tzinfo=UTC),
        datetime(2024, 3, 1, 21, 40, tzinfo=UTC),
        datetime(2024, 3, 2, 8, 5, tzinfo=UTC),
        datetime(2024, 3, 9, 16, 0, tzinfo=UTC),
        datetime(2024, 3, 9, 18, 0, tzinfo=UTC),
    ]
    assert list(run.reports) == ["mnemo", "bm25", "dense", "rrf"]
    for report in run.reports.values():
        assert report.questions == 3
        assert list(report.by_category) == ["multi-hop", "single-hop", "inferential"]
        assert all(0.0 <= r <= 1.0 for r in report.overall.values())
    # Five turns and ten hits: every evidence turn is found at 10 by every ranker that
    # matches anything; a ranker returning junk ids would score below 1.
    assert run.reports["mnemo"].overall[10] == 1.0
    assert run.reports["dense"].overall[10] == 1.0


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["bench", "recall", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def bench_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM memories WHERE user_id LIKE 'bench-recall:%'")
        return int(row.fetchone()[0])  # type: ignore[index]


def test_the_command_prints_recall_beside_the_baselines_and_cleans_up(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, TRIP)
    code, out, err = run_cli(capsys, str(path), "--database-url", database_url)
    assert code == 0, err
    assert "1 conversation(s), 5 turns, 3 questions scored" in out
    for label in ("mnemo (default search)", "baseline: BM25", "baseline: dense only"):
        assert label in out
    assert "multi-hop" in out and "inferential" in out
    assert "stored trip: 5 turns" in err
    assert bench_rows(database_url) == 0

    code, out, _ = run_cli(capsys, str(path), "--database-url", database_url, "--json")
    result = json.loads(out)
    assert result["dataset"]["questions"] == 3
    assert set(result["recall"]) == {"mnemo", "bm25", "dense", "rrf"}
    assert set(result["recall"]["bm25"]["by_category"]) == {"multi-hop", "single-hop",
                                                            "inferential"}  # fmt: skip
    assert result["questions_by_category"] == {"multi-hop": 1, "single-hop": 1, "inferential": 1}
    assert bench_rows(database_url) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"session_1": [{"speaker": "A", "text": "hi"}]}', "`dia_id` must be a non-empty string"),
        ('{"session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "hi"}]}',
         "no `date_time`, and no `session_1_date_time`"),
        ('{"session_1_date_time": "2024-01-01", "session_1": [{"speaker": "A", "dia_id": "x", '
         '"text": "hi"}], "qa": [{"question": "?", "evidence": ["y"]}]}',
         "no question whose evidence names one of the turns read: nothing to score"),
        ('{"session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "hi", "date_time": '
         '"13/5/2024"}, {"speaker": "B", "dia_id": "D1:2", "text": "yo", "date_time": '
         '"5/14/2024"}]}', "bad: slashed dates in both orders: bad: session_1 turn 1: "
         "`date_time` '13/5/2024' is only a date day first, bad: session_1 turn 2: `date_time` "
         "'5/14/2024' only month first"),
    ],
)  # fmt: skip
def test_a_bad_file_is_a_clear_error_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = run_cli(capsys, str(path))
    assert code == 2 and out == ""
    assert err.startswith("mnemo: InvalidInput: ") and message in err


def test_limits_must_be_positive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", "recall", str(write(tmp_path, TRIP)), "--turns", "0"])
    assert exited.value.code == 2
    assert "expected a whole number of at least 1, got '0'" in capsys.readouterr().err


def locomo_dir() -> Path | None:
    path = Path(
        os.environ.get("MNEMO_LOCOMO_DIR")
        or repo_root().parent / "shared" / "bench-data" / "locomo"
    )
    return path if path.is_dir() else None


@pytest.mark.skipif(locomo_dir() is None, reason="LoCoMo data not found (MNEMO_LOCOMO_DIR)")
def test_recall_on_the_start_of_a_locomo_development_conversation(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    directory = str(locomo_dir())
    argv = (directory, "--limit", "1", "--turns", "50", "--database-url", database_url, "--json")
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    result = json.loads(out)
    assert result["dataset"]["conversations"] == 1 and result["dataset"]["turns"] == 50
    assert result["dataset"]["questions"] >= 10
    assert set(result["questions_by_category"]) <= {"multi-hop", "temporal", "open-domain",
                                                    "single-hop"}  # fmt: skip
    recall = {name: run["overall"]["10"] for name, run in result["recall"].items()}
    assert recall["mnemo"] >= 0.6
    assert recall["mnemo"] >= recall["dense"]


#: Two chats in one file, in the shape of datasets that stamp every message (REALTALK
#: stamps each turn as well as each session): the turn's own stamp wins.
STAMPED = [
    {"sample_id": "chat-a",
     "conversation": {
         "session_1_date_time": "2024-06-16",
         "session_1": [
             {"speaker": "Emi", "dia_id": "D1:1", "text": "My cat Miso knocked over the basil pot.",
              "date_time": "16.06.2024, 13:06:58"},
             {"speaker": "Lou", "dia_id": "D1:2", "text": "Poor basil! Did it survive?",
              "date_time": "16.06.2024, 13:09:10"},
         ],
         "session_2_date_time": "2024-06-18",
         "session_2": [
             {"speaker": "Emi", "dia_id": "D2:1", "text": "I started a pottery class on Tuesday.",
              "date_time": "18.06.2024, 20:41:00"},
         ],
     },
     "qa": [{"question": "What did Miso knock over?", "evidence": ["D1:1"], "category": 1},
            {"question": "Which class did Emi start?", "evidence": ["D2:1"], "category": 3}]},
    {"sample_id": "chat-b",
     "conversation": {
         "session_1": [
             {"speaker": "Ray", "dia_id": "D1:1", "text": "The ferry to Naxos leaves at six.",
              "date_time": "2024-07-01T05:10:00"},
             {"speaker": "Ana", "dia_id": "D1:2", "text": "I'll bring sandwiches for the boat.",
              "date_time": "2024-07-01T05:12:30"},
         ],
     },
     "qa": [{"question": "When does the ferry leave?", "evidence": ["D1:1"], "category": 1}]},
]  # fmt: skip


def test_per_turn_stamps_and_raw_categories_in_a_file_of_several_chats(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, STAMPED, "chats.json")
    conversations = load_conversations(path, locomo_categories=False)
    assert [c.conv_id for c in conversations] == ["chat-a", "chat-b"]
    assert [t.created_at for t in conversations[0].turns] == [
        datetime(2024, 6, 16, 13, 6, 58, tzinfo=UTC),
        datetime(2024, 6, 16, 13, 9, 10, tzinfo=UTC),
        datetime(2024, 6, 18, 20, 41, tzinfo=UTC),
    ]
    code, out, err = run_cli(capsys, str(path), "--database-url", database_url, "--raw-categories")
    assert code == 0, err
    assert "2 conversation(s), 5 turns, 3 questions scored" in out
    header = next(line for line in out.splitlines() if "R@5/@10" in line)
    assert header.split()[1:] == ["1", "3"]  # the categories as written, in the file's terms
    rows = {  # "label  cell  cell ...": the label ends at the first run of spaces
        label.strip(): cells.split()
        for label, cells in (line.split("  ", 1) for line in out.splitlines() if "  " in line)
        if label.startswith(("mnemo", "baseline"))
    }
    assert set(rows) >= {"mnemo (default search)", "baseline: BM25", "baseline: dense only"}
    for cells in rows.values():  # overall, then one R@5/R@10 pair per category
        assert len(cells) == 3 and all(len(cell.split("/")) == 2 for cell in cells)
    assert rows["mnemo (default search)"][0] == "1.000/1.000"  # 2-3 turns a chat: all found
    assert bench_rows(database_url) == 0


#: A chat stamped per session and per turn with slashed dates that all read either way,
#: as some exports write them: the file alone cannot say whether 3/4 is March or April.
SLASHED = [
    {"sample_id": "chat-s",
     "conversation": {
         "speaker_a": "Noa", "speaker_b": "Kit",
         "session_1_date_time": "3/4/2024",
         "session_1": [
             {"speaker": "Noa", "dia_id": "D1:1", "text": "I adopted a grey kitten called Pebble.",
              "date_time": "3/4/2024, 9:05 am"},
             {"speaker": "Kit", "dia_id": "D1:2", "text": "Pebble! Send me photos please.",
              "date_time": "3/4/2024, 9:07 am"},
         ],
         "session_2_date_time": "5/4/24",
         "session_2": [
             {"speaker": "Noa", "dia_id": "D2:1", "text": "My bike got a flat tyre on the bridge.",
              "date_time": "5/4/24 18:30"},
         ],
     },
     "qa": [{"question": "What is the kitten called?", "evidence": ["D1:1"], "category": 1},
            {"question": "What happened to the bike?", "evidence": ["D2:1"], "category": 1}]},
]  # fmt: skip


def test_slashed_per_turn_dates_are_read_in_one_order_that_is_reported(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, SLASHED, "slashed.json")
    [month_first] = load_conversations(path)
    assert [t.created_at for t in month_first.turns] == [
        datetime(2024, 3, 4, 9, 5, tzinfo=UTC),
        datetime(2024, 3, 4, 9, 7, tzinfo=UTC),
        datetime(2024, 5, 4, 18, 30, tzinfo=UTC),
    ]
    [day_first] = load_conversations(path, date_order="dmy")
    assert day_first.turns[2].created_at == datetime(2024, 4, 5, 18, 30, tzinfo=UTC)

    code, out, err = run_cli(capsys, str(path), "--database-url", database_url, "--json")
    assert code == 0, err
    assert "read month first in chat-s: no date there has a part over 12" in err
    result = json.loads(out)
    assert result["dataset"]["turns"] == 3 and result["dataset"]["questions"] == 2
    assert result["date_orders"] == {"chat-s": {"order": "mdy", "assumed": True}}

    argv = (str(path), "--database-url", database_url, "--json", "--date-order", "dmy")
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert "note:" not in err
    assert json.loads(out)["date_orders"] == {"chat-s": {"order": "dmy", "assumed": False}}
    assert bench_rows(database_url) == 0
