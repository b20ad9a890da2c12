"""A recall run as a table for people or as a JSON-ready dict."""

from __future__ import annotations

from typing import Any

from mnemo.evaluation.protocol import RecallRun

__all__ = ["dataset_summary", "run_as_dict", "run_as_table"]

_LABELS = {"mnemo": "mnemo (default search)", "bm25": "baseline: BM25", "dense":
           "baseline: dense only", "rrf": "baseline: BM25 + dense (RRF)"}  # fmt: skip


def dataset_summary(run: RecallRun) -> dict[str, int]:
    """How much was scored and what the files held that could not be."""
    convs = run.conversations
    return {
        "conversations": len(convs),
        "turns": run.turns,
        "questions": sum(len(c.questions) for c in convs),
        "skipped_adversarial": sum(c.skipped_adversarial for c in convs),
        "skipped_no_evidence": sum(c.skipped_no_evidence for c in convs),
        "dropped_evidence": sum(c.dropped_evidence for c in convs),
    }


def run_as_dict(run: RecallRun) -> dict[str, Any]:
    """The run as plain data: the dataset, then recall@k per ranker, overall and by category."""
    return {
        "dataset": dataset_summary(run),
        "seconds": {"store": round(run.store_seconds, 3), "search": round(run.search_seconds, 3)},
        "recall": {
            name: {
                "overall": {str(k): round(v, 4) for k, v in report.overall.items()},
                "by_category": {
                    cat: {str(k): round(v, 4) for k, v in scores.items()}
                    for cat, scores in report.by_category.items()
                },
            }
            for name, report in run.reports.items()
        },
        "questions_by_category": run.reports["mnemo"].category_counts,
        "date_orders": {  # how each conversation's either-way slashed dates were read
            conv.conv_id: {"order": conv.date_order, "assumed": conv.date_order_assumed}
            for conv in run.conversations
            if conv.date_order is not None
        },
    }


def run_as_table(run: RecallRun) -> str:
    """Recall@5/@10 per ranker, overall and per category, with the question counts."""
    mnemo = run.reports["mnemo"]
    ks, cats = mnemo.ks, list(mnemo.by_category)
    labels = {name: _LABELS.get(name, name) for name in run.reports}
    left = max(len(label) for label in labels.values()) + 2
    width = max([12, *(len(c) for c in cats)]) + 2
    at = "/".join(f"@{k}" for k in ks)
    head = f"{'':<{left}}{'R' + at:>{width}}" + "".join(f"{c:>{width}}" for c in cats)
    lines = [_dataset_line(run), "", head]
    for name, report in run.reports.items():
        cells = [_pair(report.overall, ks)] + [_pair(report.by_category[c], ks) for c in cats]
        lines.append(f"{labels[name]:<{left}}" + "".join(f"{cell:>{width}}" for cell in cells))
    counts = "  ".join(f"{c} {n}" for c, n in mnemo.category_counts.items())
    lines += ["", f"questions per category: {counts}"]
    return "\n".join(lines)


def _pair(scores: dict[int, float], ks: tuple[int, ...]) -> str:
    return "/".join(f"{scores[k]:.3f}" for k in ks)


def _dataset_line(run: RecallRun) -> str:
    data = dataset_summary(run)
    line = (
        f"{data['conversations']} conversation(s), {data['turns']} turns, "
        f"{data['questions']} questions scored"
    )
    left = [
        f"{data[key]} {label}"
        for key, label in (
            ("skipped_adversarial", "adversarial (LoCoMo category 5)"),
            ("skipped_no_evidence", "without usable evidence"),
        )
        if data[key]
    ]
    return line + (f"; left out: {', '.join(left)}" if left else "")
