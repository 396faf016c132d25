"""`kb report` through the real command line on a seeded log, on SQLite and PostgreSQL.

The log is written at fixed times by the product's own stores (tests/cx_seed.py); returns are matched
by the real offline embedder, so the repeated questions are worded the same and the other topic differs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest

from kb_ingest.cli import main
from tests.cx_seed import T0, Clock, Seeder

DAY = timedelta(days=1)
REFUND, GIFT = "How long do refunds take?", "Can I buy a gift card?"


@pytest.fixture
def seed(db_settings) -> Seeder:
    """Every test here runs twice: on SQLite and on a real PostgreSQL server."""
    return Seeder(db_settings, Clock())


@pytest.fixture
def kb(seed, monkeypatch, capsys):
    """Run `kb ...` in this process against the seeded database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("KB_DATA_DIR", str(seed.settings.data_dir))
    monkeypatch.setenv("KB_DATABASE_URL", seed.settings.resolved_database_url)
    monkeypatch.chdir(seed.settings.corpus_dir)  # no stray .env from the work tree

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def seed_march(seed: Seeder) -> None:
    """Week of 2 March 2026: 4 English conversations (one comes back on the same topic), 2 Swahili, a ticket."""
    seed.conversation("en1", T0, REFUND, customer="customer-a")
    seed.conversation("en2", T0 + 2 * DAY, REFUND, customer="customer-a")            # a return: en1 is not FCR
    seed.conversation("en3", T0, GIFT, customer="customer-b", rating=-1)             # thumbs-down: not resolved
    seed.conversation("en4", T0 + DAY, GIFT, customer="customer-c")
    seed.survey("en4", T0 + DAY + timedelta(minutes=1), customer="customer-c", csat=5, ces=7, nps=10)
    seed.conversation("sw1", T0, "Marejesho huchukua muda gani?", customer="customer-d", language="sw")
    seed.survey("sw1", T0 + timedelta(minutes=1), customer="customer-d", language="sw", csat=2, ces=3, nps=3)
    seed.conversation("sw2", T0, "Nataka kuzungumza na mtu", customer="customer-e", language="sw", end=None)
    ticket = seed.hand_off("sw2", T0 + timedelta(minutes=1), language="sw")
    seed.claim(ticket, T0 + timedelta(minutes=11))
    seed.resolve(ticket, T0 + timedelta(minutes=71))
    seed.conversation("april", T0 + 40 * DAY, REFUND, customer="customer-f")         # outside the period


def test_report_json_gives_every_figure_for_the_period_and_per_language(seed, kb):
    seed_march(seed)
    code, out, err = kb("report", "--since", "2026-03-02", "--until", "2026-03-08", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["since"], data["until"]) == ("2026-03-02T00:00:00+00:00", "2026-03-09T00:00:00+00:00")
    figures = data["figures"]
    assert (figures["conversations"], figures["ended"]) == (6, 6)
    assert figures["self_service_resolution"] == pytest.approx(4 / 6)    # en1 en2 en4 sw1; en3 thumbs-down, sw2 person
    assert figures["deflection"] == pytest.approx(5 / 6) and figures["escalation_rate"] == pytest.approx(1 / 6)
    assert figures["fcr_counted"] == 6 and figures["returns"] == 1
    assert figures["fcr"] == pytest.approx(4 / 6)                        # resolved and not returned: en2 en4 sw1 sw2
    assert (figures["promoters"], figures["passives"], figures["detractors"]) == (1, 0, 1) and figures["nps"] == 0
    assert figures["created_to_claimed"]["median_s"] == 600 and figures["claimed_to_resolved"]["median_s"] == 3600
    assert list(data["by_language"]) == ["en", "ar", "sw", "ha", "et"]
    assert data["by_language"]["en"]["conversations"] == 4 and data["by_language"]["sw"]["tickets"] == 1
    assert data["by_language"]["sw"]["csat_mean"] == 2 and data["by_language"]["ar"]["fcr"] is None
    assert data["weekly"][0]["week"] == "2026-03-02"


def test_report_table_shows_the_languages_side_by_side_and_a_language_filter(seed, kb):
    seed_march(seed)
    code, out, _ = kb("report", "--since", "2026-03-02", "--until", "2026-03-08")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Customer experience, 2026-03-02 00:00 to 2026-03-09 00:00 UTC")
    header = lines[2].split()
    assert header == ["all", "en", "ar", "sw", "ha", "et"]
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines[3:]]   # columns are two or more spaces apart
    rows = {row[0]: row[1:] for row in cells}
    assert rows["Conversations"] == ["6", "4", "0", "2", "0", "0"]
    assert rows["Self-service resolution"] == ["67%", "75%", "—", "50%", "—", "—"]
    assert rows["FCR"] == ["67%", "50%", "—", "100%", "—", "—"]
    assert rows["NPS"] == ["0", "+100", "—", "-100", "—", "—"]
    assert rows["Created → claimed, median"] == ["10 min", "—", "—", "10 min", "—", "—"]   # the one ticket is sw
    assert rows["Claimed → resolved, median"] == ["60 min", "—", "—", "60 min", "—", "—"]
    code, out, _ = kb("report", "--since", "2026-03-02", "--until", "2026-03-08", "--language", "sw", "--json")
    data = json.loads(out)
    assert code == 0 and data["language"] == "sw" and data["figures"]["conversations"] == 2
    assert data["figures"]["csat"] == 0 and data["figures"]["escalation_rate"] == 0.5


def test_report_days_counts_back_from_now(seed, kb):
    seed_march(seed)                                                       # all long before now
    code, out, _ = kb("report", "--days", "7", "--json")
    assert code == 0 and json.loads(out)["figures"]["conversations"] == 0
    code, out, _ = kb("report", "--since", "2026-01-01", "--json")         # until now: every conversation
    assert code == 0 and json.loads(out)["figures"]["conversations"] == 7


@pytest.mark.parametrize(("argv", "message"), [
    (("--since", "March"), "Expected --since as YYYY-MM-DD or an ISO date-time, got 'March'"),
    (("--since", "2026-03-08", "--until", "2026-03-01"), "Expected --since before --until"),
    (("--days", "7", "--since", "2026-03-01"), "Expected either --days or --since/--until, got both"),
    (("--days", "0"), "Expected --days to be 1 or more, got 0"),
    (("--language", "fr"), "Expected --language to be one of en, ar, sw, ha, et, got 'fr'"),
])
def test_bad_options_get_a_clear_message_and_exit_code_2(seed, kb, argv, message):
    code, out, err = kb("report", *argv)
    assert code == 2 and out == "" and message in err


def test_the_installed_kb_command_prints_the_report(seed):
    """The console script itself, in a process of its own, as a team's dashboard job would run it."""
    seed_march(seed)
    kb = os.path.join(os.path.dirname(sys.executable), "kb")
    env = {**os.environ, "KB_DATA_DIR": str(seed.settings.data_dir),
           "KB_DATABASE_URL": seed.settings.resolved_database_url}
    done = subprocess.run([kb, "report", "--since", "2026-03-02", "--until", "2026-03-08", "--json"],
                          cwd=seed.settings.corpus_dir, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["by_language"]["sw"]["conversations"] == 2
