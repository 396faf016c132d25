"""Loaders on real files: every format, every way a doc writer's file can be wrong, and the metadata contract."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from assistant.errors import IngestError
from kb_ingest import loaders
from kb_ingest.loaders import SUPPORTED_EXTENSIONS, file_sha256, load_file
from tests.conftest import FIXTURES
from tests.helpers import write_file as write

CORPUS = FIXTURES / "corpus"
BROKEN = FIXTURES / "broken"
REQUIRED = {
    "source": str, "title": str, "kind": str, "language": str, "page": int,
    "section": str, "mtime": float, "content_hash": str,
}


def load(relative: str, settings, root: Path = CORPUS):
    return load_file(root / relative, root, settings)


def load_error(relative: str, settings, root: Path = BROKEN) -> str:
    with pytest.raises(IngestError) as caught:
        load_file(root / relative, root, settings)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message


def test_supported_extensions_are_exactly_the_documented_ones():
    expected = {".md", ".markdown", ".html", ".htm", ".pdf", ".txt", ".csv", ".json", ".jsonl"}
    assert SUPPORTED_EXTENSIONS == expected
    assert set(loaders.LOADERS) == expected


def test_file_sha256_matches_hashlib():
    path = CORPUS / "docs" / "account_guide.pdf"
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


# --- metadata contract ----------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.rglob("*") if p.is_file()), ids=lambda p: p.name)
def test_every_corpus_file_has_flat_complete_metadata(path: Path, settings):
    docs = load_file(path, CORPUS, settings)
    assert docs
    for doc in docs:
        assert doc.page_content.strip()
        for key, kind in REQUIRED.items():
            assert isinstance(doc.metadata[key], kind), (key, doc.metadata[key])
        assert all(isinstance(v, (str, int, float, bool)) for v in doc.metadata.values()), doc.metadata
        assert doc.metadata["source"] == path.relative_to(CORPUS).as_posix()
        assert doc.metadata["content_hash"] == file_sha256(path)
        assert doc.metadata["mtime"] == path.stat().st_mtime
        assert doc.metadata["kind"] in ("faq", "doc", "tutorial")
        assert doc.metadata["language"] in settings.languages
        assert doc.metadata["title"]


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("faq/faq_en.csv", "faq"),
        ("docs/refunds.md", "doc"),
        ("docs/shipping.html", "doc"),
        ("tutorials/getting_started.md", "tutorial"),
        ("tutorials/router_setup.pdf", "tutorial"),
    ],
)
def test_kind_comes_from_the_first_folder(relative, kind, settings):
    assert {d.metadata["kind"] for d in load(relative, settings)} == {kind}


def test_kind_outside_known_folders_is_faq_for_tables_and_doc_otherwise(tmp_path, settings):
    write(tmp_path / "misc" / "table.csv", "question,answer\nHow do I pay?,By card.\n")
    write(tmp_path / "misc" / "note.txt", "Opening hours are nine to five on weekdays.")
    assert load("misc/table.csv", settings, tmp_path)[0].metadata["kind"] == "faq"
    assert load("misc/note.txt", settings, tmp_path)[0].metadata["kind"] == "doc"


def test_source_outside_root_falls_back_to_file_name(tmp_path, settings):
    path = write(tmp_path / "elsewhere" / "note.txt", "Opening hours are nine to five on weekdays.")
    doc = load_file(path, tmp_path / "corpus", settings)[0]
    assert doc.metadata["source"] == "note.txt"


# --- Markdown and text ----------------------------------------------------------------------


def test_markdown_front_matter_is_parsed_and_removed(settings):
    [doc] = load("docs/refunds.md", settings)
    assert doc.metadata["title"] == "Returns and refunds"
    assert doc.metadata["language"] == "en"
    assert doc.metadata["page"] == 0 and doc.metadata["section"] == ""
    assert "tags:" not in doc.page_content and not doc.page_content.startswith("---")
    assert "## Card payments" in doc.page_content


def test_front_matter_overrides_folder_and_detection(tmp_path, settings):
    text = (
        "---\ntitle: Refunds: how they work\nkind: tutorials\nlang: sw-KE\n---\n"
        "# Another heading\n\nThis article is written in English but declared Swahili.\n"
    )
    write(tmp_path / "docs" / "refunds_sw.md", text)
    [doc] = load("docs/refunds_sw.md", settings, tmp_path)
    assert doc.metadata["title"] == "Refunds: how they work"
    assert doc.metadata["kind"] == "tutorial"
    assert doc.metadata["language"] == "sw"


def test_unknown_front_matter_kind_is_rejected(tmp_path, settings):
    write(tmp_path / "a.md", "---\nkind: blogpost\n---\nSome text here.\n")
    message = load_error("a.md", settings, tmp_path)
    assert "blogpost" in message and "faq, doc, tutorial" in message


def test_front_matter_only_is_rejected(tmp_path, settings):
    write(tmp_path / "a.md", "---\ntitle: Nothing below\n---\n\n")
    assert "front matter" in load_error("a.md", settings, tmp_path)


def test_setext_h1_becomes_title_and_markdown_heading(settings):
    [doc] = load("tutorials/getting_started.md", settings)
    assert doc.metadata["title"] == "Getting started with the Acme app"
    assert doc.page_content.startswith("# Getting started with the Acme app\n")


def test_title_falls_back_to_prettified_file_name(tmp_path, settings):
    write(tmp_path / "refund_policy-v2.md", "Refunds are paid within ten days of the return.\n")
    assert load("refund_policy-v2.md", settings, tmp_path)[0].metadata["title"] == "Refund policy v2"


def test_text_first_line_is_title_and_cp1252_is_decoded(settings):
    [doc] = load("docs/cafe_hours_cp1252.txt", settings)
    assert doc.metadata["title"] == "Café opening hours"
    assert "9:00–17:00" in doc.page_content and "€" in doc.page_content


def test_utf16_with_bom_is_decoded(settings):
    [doc] = load("docs/delivery_utf16.txt", settings)
    assert doc.metadata["title"] == "Delivery times"
    assert "1–2 working days" in doc.page_content and "\ufeff" not in doc.page_content


def test_utf8_bom_and_crlf_are_normalised(tmp_path, settings):
    write(tmp_path / "a.txt", "\ufeffTitle line\r\n\r\nBody text about refunds and returns.\r\n".encode())
    [doc] = load("a.txt", settings, tmp_path)
    assert doc.page_content == "Title line\n\nBody text about refunds and returns."
    assert doc.metadata["title"] == "Title line"


def test_long_first_line_is_not_a_title(tmp_path, settings):
    write(tmp_path / "notes.txt", "word " * 60)
    assert load("notes.txt", settings, tmp_path)[0].metadata["title"] == "Notes"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "How do I reset my password? Click Forgot password on the sign-in page."),
        ("ar", "كيف أعيد تعيين كلمة المرور؟ اضغط على نسيت كلمة المرور."),
        ("sw", "Ninawezaje kubadilisha nenosiri langu? Bonyeza Umesahau nenosiri."),
        ("ha", "Ta yaya zan canza kalmar sirri ta? Danna Manta kalmar sirri a shafin shiga."),
        ("et", "Kuidas ma oma parooli muudan? Klõpsake sisselogimislehel nuppu Unustasin parooli."),
    ],
)
def test_language_of_short_texts_is_detected(language, text, tmp_path, settings):
    write(tmp_path / "docs" / "short.txt", text)
    assert load("docs/short.txt", settings, tmp_path)[0].metadata["language"] == language


def test_hausa_markdown_is_detected_as_hausa(settings):
    assert load("docs/biyan_kudi_ha.md", settings)[0].metadata["language"] == "ha"


# --- HTML -----------------------------------------------------------------------------------


def test_html_keeps_structure_and_drops_chrome(settings):
    [doc] = load("docs/shipping.html", settings)
    text = doc.page_content
    assert doc.metadata["title"] == "Shipping and delivery"
    assert text.startswith("# Shipping & delivery\n")
    assert "\n## Delivery times\n" in text and "\n### Tracking your parcel\n" in text
    assert "- Standard: 3–5 working days\n- Express: 1–2 working days" in text
    assert "1. Open the confirmation email.\n2. Click Track parcel." in text
    assert "Under 50 € | 4.90 €" in text
    assert "within 3–5 working days. Remote" in text  # inline tags and line breaks collapsed
    for junk in ("analytics", "do not index", "font-family", "Help centre", "All rights reserved"):
        assert junk not in text


def test_html_title_falls_back_to_first_h1(tmp_path, settings):
    write(tmp_path / "a.htm", "<body><h1>Gift cards</h1><p>Gift cards never expire.</p><pre>code  kept</pre></body>")
    [doc] = load("a.htm", settings, tmp_path)
    assert doc.metadata["title"] == "Gift cards"
    assert "```\ncode  kept\n```" in doc.page_content


def test_html_with_only_scripts_is_rejected(tmp_path, settings):
    write(tmp_path / "a.html", "<html><head><script>var x = 1;</script></head><body><nav>Home</nav></body></html>")
    assert "readable text" in load_error("a.html", settings, tmp_path)


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_gives_one_document_per_page(settings):
    docs = load("docs/account_guide.pdf", settings)
    assert [d.metadata["page"] for d in docs] == [1, 2]
    assert {d.metadata["title"] for d in docs} == {"Account guide"}
    assert "Sign up" in docs[0].page_content and "Close account" in docs[1].page_content


def test_pdf_blank_page_is_skipped_and_numbers_stay_right(settings):
    docs = load("tutorials/router_setup.pdf", settings)
    assert [d.metadata["page"] for d in docs] == [1, 3]
    assert "Plug the adapter" in docs[1].page_content
    assert docs[0].metadata["title"] == "Router setup"  # no PDF title: the prettified file name


def test_pdf_with_only_an_owner_password_opens(settings):
    assert [d.metadata["page"] for d in load("docs/owner_locked.pdf", settings)] == [1, 2]


def test_encrypted_pdf_is_rejected_with_advice(settings):
    message = load_error("encrypted.pdf", settings)
    assert message.startswith("encrypted PDF") and "remove the password" in message


def test_corrupt_pdf_is_rejected(settings):
    assert "damaged" in load_error("corrupt.pdf", settings)


def test_pdf_without_text_layer_asks_for_ocr(settings):
    message = load_error("scanned.pdf", settings)
    assert "no text layer" in message and "OCR" in message


def test_pdf_page_count_is_capped(settings, monkeypatch):
    monkeypatch.setattr(loaders.pdf, "MAX_PDF_PAGES", 1)
    message = load_error("account_guide.pdf", settings, CORPUS / "docs")
    assert "at most 1 pages, got 2" in message


# --- FAQ tables -----------------------------------------------------------------------------


def test_faq_csv_gives_one_document_per_complete_row(settings):
    docs = load("faq/faq_en.csv", settings)
    assert [d.metadata["question"] for d in docs] == [
        "How do I reset my password?",
        "Can I change my delivery address?",
        "What payment methods do you accept?",
        "How do I delete my account?",
    ]
    assert docs[0].page_content.startswith('Q: How do I reset my password?\nA: Click "Forgot password"')
    assert [d.metadata["section"] for d in docs] == ["Account", "Orders", "Billing", "Account"]
    assert {d.metadata["kind"] for d in docs} == {"faq"}
    assert {d.metadata["language"] for d in docs} == {"en"}
    assert docs[0].metadata["title"] == "Faq en"


def test_semicolon_csv_with_commas_in_answers(settings):
    docs = load("faq/faq_et.csv", settings)
    assert len(docs) == 3
    assert "10,50 €" in docs[2].page_content
    assert {d.metadata["language"] for d in docs} == {"et"}


def test_csv_row_with_unquoted_delimiter_names_the_line(tmp_path, settings):
    write(tmp_path / "faq.csv", "question;answer\nHow do I pay?;By card\nCan I cancel?;Yes; within 14 days\n")
    message = load_error("faq.csv", settings, tmp_path)
    assert "Expected 2 columns on line 3, got 3" in message and "a semicolon" in message


def test_tab_separated_csv_with_q_and_a_headers(tmp_path, settings):
    write(tmp_path / "faq.csv", "Q\tA\nHow do I pay?\tBy card, bank transfer or M-Pesa.\n")
    [doc] = load("faq.csv", settings, tmp_path)
    assert doc.page_content == "Q: How do I pay?\nA: By card, bank transfer or M-Pesa."


def test_csv_language_column_overrides_detection(tmp_path, settings):
    write(tmp_path / "faq.csv", "question,answer,lang\nHow do I pay?,By card or bank transfer.,sw\n")
    assert load("faq.csv", settings, tmp_path)[0].metadata["language"] == "sw"


def test_unsure_row_takes_the_file_language(tmp_path, settings):
    rows = [
        "Ninawezaje kubadilisha nenosiri langu?,Bonyeza Umesahau nenosiri kwenye ukurasa wa kuingia.",
        "Je ninaweza kulipa kwa kadi?,Ndiyo tunapokea malipo ya kadi na benki.",
        "M-Pesa?,Ndiyo",  # too short to tell: langid says Hausa, unsure
    ]
    write(tmp_path / "faq.csv", "question,answer\n" + "\n".join(rows) + "\n")
    assert [d.metadata["language"] for d in load("faq.csv", settings, tmp_path)] == ["sw", "sw", "sw"]


def test_csv_without_question_and_answer_columns(settings):
    message = load_error("bad_columns.csv", settings)
    assert message.startswith("Expected columns question and answer") and "got: title, body" in message


def test_csv_without_complete_rows(settings):
    assert "got none (2 incomplete)" in load_error("no_answers.csv", settings)


def test_json_faq_object_with_title_and_key_variants(settings):
    docs = load("faq/faq_sw.json", settings)
    assert len(docs) == 3
    assert docs[2].metadata["question"] == "Pesa yangu itarudishwa lini?"  # "Q"/"A" keys
    assert {d.metadata["title"] for d in docs} == {"Maswali yanayoulizwa mara kwa mara"}
    assert {d.metadata["language"] for d in docs} == {"sw"}


def test_json_plain_list(tmp_path, settings):
    write(tmp_path / "faq.json", '[{"Question": "How do I pay?", "Answer": "By card."}, "junk", {"question": "x"}]')
    [doc] = load("faq.json", settings, tmp_path)
    assert doc.page_content == "Q: How do I pay?\nA: By card."


def test_jsonl_rows_get_their_own_language(settings):
    docs = load("faq/faq_multi.jsonl", settings)
    assert [d.metadata["language"] for d in docs] == ["en", "ar", "sw", "ha", "et"]


def test_malformed_json_reports_the_position(settings):
    message = load_error("malformed.json", settings)
    assert message.startswith("Expected valid JSON") and "line 3, column 3" in message


def test_malformed_jsonl_reports_the_line(settings):
    assert "invalid JSON on line 2" in load_error("malformed.jsonl", settings)


def test_json_of_the_wrong_shape(settings):
    assert "got an object with keys articles" in load_error("wrong_shape.json", settings)


# --- files that are not usable at all -------------------------------------------------------


def test_empty_file(settings):
    assert load_error("empty.md", settings).startswith("file is empty")


def test_whitespace_only_file(settings):
    assert load_error("whitespace.txt", settings).startswith("file is empty")


def test_binary_junk_named_md(settings):
    assert load_error("binary.md", settings).startswith("looks like binary data, not text")


def test_control_characters_without_nul_are_binary(tmp_path, settings):
    rng = random.Random(7)
    write(tmp_path / "a.txt", bytes(rng.choice(b"\x01\x02\x03\x1babcdef ") for _ in range(500)))
    assert "binary" in load_error("a.txt", settings, tmp_path)


def test_unknown_extension_names_the_supported_ones(settings):
    message = load_error("manual.docx", settings)
    assert "'.docx'" in message and ".pdf" in message and ".md" in message


def test_file_over_the_size_limit_is_rejected_before_reading(tmp_path, settings, monkeypatch):
    path = write(tmp_path / "big.txt", b"a" * (1024 * 1024 + 1))
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: pytest.fail("opened a file over the limit"))
    message = load_error("big.txt", settings.with_overrides(max_file_mb=1), tmp_path)
    assert "at most 1 MB" in message and "1,048,577 bytes" in message and path.exists()


def test_unreadable_file(tmp_path, settings, monkeypatch):
    write(tmp_path / "a.txt", "Opening hours are nine to five on weekdays.")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    assert "check its permissions" in load_error("a.txt", settings, tmp_path)


def test_missing_path(settings):
    assert "nothing there" in load_error("does_not_exist.md", settings)


def test_folder_is_not_a_file(tmp_path, settings):
    (tmp_path / "folder.md").mkdir()
    assert "folder" in load_error("folder.md", settings, tmp_path)
