"""Markdown tables for `kb eval --answers`."""

from __future__ import annotations

from typing import Any

COLUMNS = (
    ("recall@5", "recall@5"),
    ("dense@5", "dense@5"),
    ("correct", "correct"),
    ("wrong_confident", "wrong & confident"),
    ("deflected", "answerable deflected"),
    ("right_but_offered", "right but offered"),
    ("ooc_caught", "out-of-KB caught"),
    ("followup_correct", "follow-ups correct"),
)


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def format_table(table: dict[str, dict[str, Any]]) -> list[str]:
    header = "| lang | answerable (cross) | out-of-KB | follow-ups | " + " | ".join(t for _, t in COLUMNS) + " |"
    lines = [header, "|---|" + "---:|" * (3 + len(COLUMNS))]
    for lang, row in table.items():
        counts = f"{row['answerable']} ({row['cross_lingual']}) | {row['out_of_kb']} | {row['followups']}"
        cells = " | ".join(_cell(row[key]) for key, _ in COLUMNS)
        name = f"**{lang}**" if lang == "all" else lang
        lines.append(f"| {name} | {counts} | {cells} |")
    return lines


def format_answer_report(result: dict[str, Any]) -> str:
    """One section per evaluated domain."""
    lines = []
    for domain in result["domains"]:
        lines += [
            f"## {domain['corpus']} — split {domain.get('split', result['split'])}, {domain['mode']}",
            "",
            f"{domain['chunks']} chunks, ingested in {domain['ingest_seconds']} s; "
            f"{len(domain['rows'])} conversations answered in {domain['answer_seconds']} s.",
            "",
            *format_table(domain["table"]),
            "",
        ]
    return "\n".join(lines)
