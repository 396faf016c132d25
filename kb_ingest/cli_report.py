"""`kb report`: the customer-experience figures of a period, per language side by side (or as JSON).

The same report as the Insights page (assistant/cx/report.py), so a team's own dashboards and the
page always agree. Definitions: docs/metrics.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from assistant.config import Settings
from assistant.cx.display import FIGURE_ROWS
from assistant.errors import ConfigError

DEFAULT_DAYS = 30
ALL = "all"


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def parse_moment(value: str, option: str, end_of_day: bool = False) -> datetime:
    """A UTC moment from YYYY-MM-DD or an ISO date-time; a bare date with `end_of_day` means the day after it."""
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"Expected {option} as YYYY-MM-DD or an ISO date-time, got {value!r}.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def period(args: argparse.Namespace, now: datetime) -> tuple[datetime, datetime]:
    """[since, until) from --since/--until or --days (default: the last 30 days)."""
    if args.days is not None and (args.since or args.until):
        raise ConfigError("Expected either --days or --since/--until, got both; use one way to give the period.")
    if args.days is not None and args.days < 1:
        raise ConfigError(f"Expected --days to be 1 or more, got {args.days}.")
    until = parse_moment(args.until, "--until", end_of_day=True) if args.until else now
    since = parse_moment(args.since, "--since") if args.since else until - timedelta(days=args.days or DEFAULT_DAYS)
    if since >= until:
        raise ConfigError(f"Expected --since before --until, got {since.isoformat()} and {until.isoformat()}.")
    return since, until


def _query_embedder(settings: Settings) -> Callable[[list[str]], object]:
    """Questions -> query vectors with the configured embedder (returns are matched by question similarity)."""
    import numpy as np

    from assistant.models import make_embeddings

    embeddings = make_embeddings(settings)
    return lambda texts: np.asarray([embeddings.embed_query(text) for text in texts], dtype=np.float32)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.cx.report import build_report
    from assistant.db import Database, utc_now

    if args.language and args.language not in settings.languages:
        raise ConfigError(f"Expected --language to be one of {', '.join(settings.languages)}, "
                          f"got {args.language!r}.")
    now = utc_now()
    since, until = period(args, now)
    report = build_report(Database.from_settings(settings), settings, _query_embedder(settings),
                          since=since, until=until, language=args.language or None, now=now)
    if args.json:
        _out(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    columns = {args.language: report.figures} if args.language else {ALL: report.figures, **report.by_language}
    _out(f"Customer experience, {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC "
         f"(definitions: docs/metrics.md)")
    _out()
    for line in table(columns):
        _out(line)
    return 0


def table(columns: dict) -> list[str]:
    """One row per figure (the Insights page's rows and formats), one column per language, aligned."""
    cells = [["", *columns]] + [[label, *(show(f) for f in columns.values())] for label, show in FIGURE_ROWS]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)])
            .rstrip() for row in cells]


def register(sub) -> None:
    p = sub.add_parser("report", help="customer-experience figures for a period, per language (docs/metrics.md)")
    p.add_argument("--since", help="start of the period: YYYY-MM-DD (UTC midnight) or an ISO date-time")
    p.add_argument("--until", help="end of the period: YYYY-MM-DD (that whole day included) or an ISO date-time; "
                                   "default now")
    p.add_argument("--days", type=int, help=f"the last N days up to now (default {DEFAULT_DAYS})")
    p.add_argument("--language", help="one language only (e.g. sw); default every language side by side")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_report)
