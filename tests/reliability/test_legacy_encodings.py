"""Item 12 of issue 12: Arabic saved as Windows-1256 (what Excel and Notepad on an Arabic Windows write).

Decoded as Windows-1252 it became mojibake ("íãßäß ÅÑÌÇÚ") that the language detector called
Estonian. Now such bytes are read as Arabic, and other non-Latin legacy code pages are refused
with a message asking for UTF-8, instead of being indexed as accented-letter soup.
"""

from __future__ import annotations

import pytest

from assistant.errors import IngestError
from assistant.retrieval import make_retriever
from assistant.store import open_store
from kb_ingest.indexing import Indexer
from kb_ingest.loaders import decode_text
from tests.helpers import write_files

RETURNS_AR = (
    "يمكنك إرجاع معظم المنتجات خلال ثلاثين يومًا من تاريخ الاستلام. تصل المبالغ المستردة إلى بطاقتك "
    "خلال خمسة إلى عشرة أيام عمل بعد أن نستلم المنتج المرتجع."
)
FAQ_AR = "question,answer\nهل الشحن مجاني؟,نعم، الشحن مجاني للطلبات التي تزيد عن مئتي شلن.\n"


def test_windows_1256_arabic_is_indexed_as_arabic(settings, embeddings):
    write_files(settings.corpus_dir, {
        "docs/returns.ar.txt": RETURNS_AR.encode("cp1256"),
        "docs/returns.ar.md": f"# الإرجاع\n\n{RETURNS_AR}\n".encode("cp1256"),
        "faq/shipping_ar.csv": FAQ_AR.encode("cp1256"),
    })
    store = open_store(settings, embeddings)
    report = Indexer(settings, store).ingest()
    assert report.ok, report.to_dict()["errors"]
    metadatas = store.metadatas()
    assert {m["language"] for m in metadatas} == {"ar"}
    texts = store.collection.get(include=["documents"])["documents"]
    assert any("ثلاثين يومًا" in t for t in texts) and any("الشحن مجاني" in t for t in texts)
    assert not any("Ç" in t or "ã" in t for t in texts)  # no Windows-1252 mojibake
    top = make_retriever(settings, store).retrieve("كم يستغرق وصول المبلغ المسترد إلى بطاقتي؟", k=1).chunks[0]
    assert top.chunk.source.startswith("docs/returns.ar")


@pytest.mark.parametrize("text, codec", [
    ("Возврат товара возможен в течение тридцати дней после получения заказа.", "cp1251"),
    ("Η επιστροφή χρημάτων γίνεται μέσα σε δέκα εργάσιμες ημέρες.", "cp1253"),
])
def test_other_non_latin_code_pages_are_refused_with_a_request_for_utf8(text, codec):
    with pytest.raises(IngestError, match="UTF-8"):
        decode_text(text.encode(codec), ".txt")


@pytest.mark.parametrize("text, codec", [
    ("Crème brûlée, café au lait et façade : déjà vu, naïve Noël.", "cp1252"),
    ("Tagastamine: tooteid saab tagastada 30 päeva jooksul pärast kättesaamist. Õige šokolaad.", "cp1252"),
    ("Points “gold” tier — added after 48 hours.", "cp1252"),
    ("Points at the café are added after 48 hours, señor.", "latin-1"),
])
def test_latin_legacy_text_still_reads_as_before(text, codec):
    assert decode_text(text.encode(codec), ".txt") == text


def test_a_long_utf8_arabic_upload_cut_mid_character_by_the_sniffer_is_accepted():
    from ui.uploads import check_upload

    data = ("# الإرجاع\n\n" + RETURNS_AR * 400).encode("utf-8")
    assert len(data) > 65536 and data[65535] >= 0x80  # the sniffer's 64 KB window ends inside a letter
    assert check_upload("returns.ar.md", data, max_file_mb=5) == "returns.ar.md"
