"""The UI's pure helpers: safe message HTML, upload checks and saving, golden cases, table rows."""

from __future__ import annotations

import json

import pytest

from assistant.golden import append_golden_case, load_gold_set
from assistant.types import Chunk, RetrievedChunk
from evals.datasets import EvalDataError
from ui.render import chunk_rows, escape_markdown, message_html, quote_html, signal_rows, unique_sources
from ui.strings import STRINGS, UI_LANGUAGES, t
from ui.uploads import UploadRejected, check_upload, safe_filename, save_upload


def test_message_html_escapes_html_and_sets_direction():
    html = message_html("<script>alert(1)</script> costs $5 and $10", "ar")
    assert html.startswith('<div dir="rtl" lang="ar"')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\\$5" in html and "\\$10" in html
    assert message_html("hello", "en").startswith('<div dir="ltr" lang="en"')
    assert message_html("hello", None).startswith('<div dir="auto"')
    assert 'dir="rtl"' in quote_html("نص", "ar") and "> نص" in quote_html("نص", "ar")


def test_typed_text_loses_markdown_syntax():
    escaped = escape_markdown("![x](http://t.invalid/p.png) **bold** <b> $1")
    assert "![" not in escaped and "\\!\\[x\\]\\(" in escaped
    assert "\\*\\*bold\\*\\*" in escaped and "&lt;b&gt;" in escaped and "\\$1" in escaped
    assert "\\!\\[" in message_html("![x](y)", None, markdown=False)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("refunds.md", "refunds.md"),
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("C:\\fakepath\\Guide (v2).pdf", "Guide _v2_.pdf"),
        ("/abs/path/faq.csv", "faq.csv"),
        ("résumé kiswahili.md", "résumé kiswahili.md"),
    ],
)
def test_safe_filename_keeps_only_a_clean_base_name(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["", ".", "..", "../", ".env", "docs/.hidden.md", "a\x00b.md", "a\u202eb.md"])
def test_safe_filename_refuses_empty_hidden_and_control_names(name):
    with pytest.raises(UploadRejected, match="Expected"):
        safe_filename(name)


def test_check_upload_sniffs_content_and_size():
    assert check_upload("faq.csv", b"question,answer\nHi?,Hello.\n", 1) == "faq.csv"
    assert check_upload("guide.pdf", b"%PDF-1.7\n...", 1) == "guide.pdf"
    with pytest.raises(UploadRejected, match="Expected one of"):
        check_upload("tool.exe", b"MZ", 1)
    with pytest.raises(UploadRejected, match="Expected one of"):
        check_upload("README", b"text", 1)
    with pytest.raises(UploadRejected, match="Expected a PDF"):
        check_upload("fake.pdf", b"<html>not a pdf</html>", 1)
    with pytest.raises(UploadRejected, match="binary"):
        check_upload("archive.md", b"PK\x03\x04zipped", 1)
    with pytest.raises(UploadRejected, match="binary"):
        check_upload("notes.txt", b"abc\x00\x01\x02" * 100, 1)
    with pytest.raises(UploadRejected, match="at most 1 MB"):
        check_upload("big.md", b"a" * (1024 * 1024 + 1), 1)
    with pytest.raises(UploadRejected, match="empty"):
        check_upload("empty.md", b"", 1)


def test_save_upload_writes_inside_uploads_only(tmp_path):
    path = save_upload(tmp_path, "guide.md", b"# Guide\n")
    assert path == (tmp_path / "uploads" / "guide.md").resolve()
    assert path.read_bytes() == b"# Guide\n"
    assert save_upload(tmp_path, "guide.md", b"# Guide v2\n").read_bytes() == b"# Guide v2\n"
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["guide.md"]  # no temp files left
    with pytest.raises(UploadRejected):
        save_upload(tmp_path, "../escape.md", b"x")
    assert not (tmp_path / "escape.md").exists()


def test_golden_cases_append_and_load(tmp_path):
    path = tmp_path / "data" / "golden.jsonl"
    append_golden_case(path, "Je, ninawezaje kurejeshewa pesa?", ["docs/refunds.md"], "sw", False)
    append_golden_case(path, "agent!", [], "en", True)
    cases = load_gold_set(path)
    assert [c.user_input for c in cases] == ["Je, ninawezaje kurejeshewa pesa?", "agent!"]
    assert cases[0].expected_sources == ("docs/refunds.md",) and cases[1].expect_escalation
    row = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert {"user_input", "expected_sources", "language", "expect_escalation"} <= set(row)
    with pytest.raises(EvalDataError):
        append_golden_case(path, "  ", [], "en", False)
    assert len(load_gold_set(path)) == 2


def test_golden_cases_are_redacted(tmp_path):
    path = tmp_path / "golden.jsonl"
    append_golden_case(path, "Refund to 4111  1111  1111  1111? my otp is 482913", [], "en", True)
    assert "1111" not in path.read_text(encoding="utf-8") and "482913" not in path.read_text(encoding="utf-8")
    assert load_gold_set(path)[0].user_input == "Refund to [card]? my otp is [code]"


def test_table_rows():
    chunk = Chunk("c1", "Refunds arrive in 5 days. " * 20, "docs/refunds.md", "Refunds", language="en", page=2)
    rows = chunk_rows([RetrievedChunk(chunk, 0.031, dense_score=0.84, lexical_score=3.2, dense_rank=1)])
    assert rows[0]["source"] == "docs/refunds.md" and rows[0]["page"] == 2
    assert rows[0]["dense rank"] == 1 and rows[0]["lexical rank"] is None
    assert len(rows[0]["text"]) <= 160
    assert unique_sources([RetrievedChunk(chunk, 1.0), RetrievedChunk(chunk, 0.5)]) == ["docs/refunds.md"]
    assert signal_rows({"loop": False, "confidence": 0.123456}) == [
        {"signal": "confidence", "value": "0.1235"}, {"signal": "loop", "value": "no"},
    ]


def test_every_interface_string_exists_in_every_language():
    for key, table in STRINGS.items():
        assert set(table) == set(UI_LANGUAGES), key
    assert t("passed_on", "sw", ticket="T-1", ahead=2).count("T-1") == 1
