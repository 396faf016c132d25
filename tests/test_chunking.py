"""Chunking: heading context, FAQ entries, PDF pages, stable ids, and hard token bounds on hostile text."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

import pytest
from langchain_core.documents import Document

from assistant.errors import ConfigError
from assistant.tiktoken_offline import count_tokens
from kb_ingest.chunking import flat_metadata, hard_split, heading_sections, split_documents
from kb_ingest.loaders import load_file

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
CHUNK_ID = re.compile(r"^(?P<source>.+)#(?P<position>\d+)-(?P<digest>[0-9a-f]{12})$")
ENGLISH = (
    "Refunds are paid to the card you used. Orders ship within two days, and tracking links arrive by email. "
    "If a parcel is late, contact support with your order number; we answer within one working day. "
)
ARABIC = "يمكنك إرجاع معظم المنتجات خلال ثلاثين يومًا من التسليم. تصل المبالغ المستردة إلى بطاقتك خلال عشرة أيام. "
SWAHILI = "Pesa hurudishwa ndani ya siku tano hadi kumi za kazi baada ya kupokea bidhaa. "


def chunks_of(relative: str, settings, tokens: int = 320, overlap: int = 40) -> list[Document]:
    return split_documents(load_file(CORPUS / relative, CORPUS, settings), tokens, overlap)


def make_doc(text: str, source: str = "docs/a.md", **metadata) -> Document:
    base = {"source": source, "title": "A", "kind": "doc", "language": "en", "page": 0, "section": "",
            "mtime": 1.0, "content_hash": "h"}
    return Document(page_content=text, metadata={**base, **metadata})


def assert_well_formed(chunks: list[Document], limit: int) -> None:
    assert chunks
    for chunk in chunks:
        assert chunk.page_content.strip(), "empty chunk"
        tokens = count_tokens(chunk.page_content)
        assert tokens <= limit, f"{tokens} > {limit}: {chunk.page_content[:80]!r}"
        assert all(isinstance(v, (str, int, float, bool)) for v in chunk.metadata.values()), chunk.metadata
        assert CHUNK_ID.match(chunk.metadata["chunk_id"]), chunk.metadata["chunk_id"]
        assert chunk.id == chunk.metadata["chunk_id"]


# --- structure ------------------------------------------------------------------------------


def test_markdown_chunks_start_with_their_heading_path(settings):
    chunks = chunks_of("docs/refunds.md", settings)
    sections = [c.metadata["section"] for c in chunks]
    assert sections == [
        "Returns and refunds",
        "Returns and refunds > Card payments",
        "Returns and refunds > Card payments > Partial refunds",
        "Returns and refunds > Bank transfers",
    ]
    for chunk in chunks:
        assert chunk.page_content.startswith(chunk.metadata["section"] + "\n\n")
        assert "\n# " not in chunk.page_content.split("```")[0]  # headings live in the path line only
    assert "# This line is inside a code block" in chunks[-1].page_content


def test_html_headings_give_the_same_sections(settings):
    sections = [c.metadata["section"] for c in chunks_of("docs/shipping.html", settings)]
    assert sections[0] == "Shipping & delivery"
    assert "Shipping & delivery > Delivery times > Tracking your parcel" in sections


def test_heading_sections_skip_levels_and_keep_paragraphs():
    text = "Intro line.\n\n## B\n\npara one\n\npara two\n### C\ntext c\n# D\ntext d\n#### not split\nmore"
    assert heading_sections(text) == [
        ("", "Intro line."),
        ("B", "para one\n\npara two"),
        ("B > C", "text c"),
        ("D", "text d\n#### not split\nmore"),
    ]


def test_document_of_only_headings_still_gives_a_chunk(settings):
    [chunk] = split_documents([make_doc("# Title only\n\n## Sub only")], 64, 8)
    assert "Title only" in chunk.page_content


def test_faq_rows_are_one_chunk_each(settings):
    chunks = chunks_of("faq/faq_en.csv", settings)
    assert len(chunks) == 4
    for chunk in chunks:
        assert chunk.page_content.startswith(f"Q: {chunk.metadata['question']}\nA: ")
    assert [c.metadata["position"] for c in chunks] == [0, 1, 2, 3]
    assert chunks[0].metadata["section"] == "Account"


def test_long_faq_answer_is_split_and_repeats_the_question():
    answer = " ".join(f"Step {i}: open the menu and choose option {i}." for i in range(80))
    doc = make_doc(f"Q: How do I set up the router?\nA: {answer}", source="faq/f.csv", kind="faq",
                   question="How do I set up the router?")
    chunks = split_documents([doc], 64, 8)
    assert len(chunks) > 3
    assert_well_formed(chunks, 64)
    assert all(c.page_content.startswith("Q: How do I set up the router?\nA: ") for c in chunks)
    assert "Step 79: open the menu" in chunks[-1].page_content


def test_huge_faq_question_is_truncated_to_fit():
    question = "Why " + "really " * 400 + "?"
    doc = make_doc(f"Q: {question}\nA: Because. " * 1, source="faq/f.json", question=question)
    chunks = split_documents([doc], 48, 0)
    assert_well_formed(chunks, 48)
    assert chunks[0].page_content.startswith("Q: Why really") and "…\nA: " in chunks[0].page_content


def test_pdf_pages_are_chunked_separately(settings):
    chunks = chunks_of("tutorials/router_setup.pdf", settings)
    assert [c.metadata["page"] for c in chunks] == [1, 3]
    long_page = make_doc(ENGLISH * 20, source="docs/m.pdf", page=7)
    short_page = make_doc("Last page.", source="docs/m.pdf", page=8)
    chunks = split_documents([long_page, short_page], 64, 8)
    assert {c.metadata["page"] for c in chunks[:-1]} == {7} and chunks[-1].metadata["page"] == 8
    assert [c.metadata["position"] for c in chunks] == list(range(len(chunks)))


# --- ids and metadata -----------------------------------------------------------------------


def test_chunk_ids_are_stable_and_content_addressed(settings):
    first = chunks_of("docs/refunds.md", settings, tokens=48, overlap=8)
    second = chunks_of("docs/refunds.md", settings, tokens=48, overlap=8)
    assert [c.metadata["chunk_id"] for c in first] == [c.metadata["chunk_id"] for c in second]
    for position, chunk in enumerate(first):
        digest = hashlib.sha256(chunk.page_content.encode()).hexdigest()[:12]
        assert chunk.metadata["chunk_id"] == f"docs/refunds.md#{position}-{digest}"
        assert chunk.metadata["position"] == position
    assert len({c.metadata["chunk_id"] for c in first}) == len(first)


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.rglob("*") if p.is_file()), ids=lambda p: p.name)
def test_every_fixture_chunks_within_bounds(path: Path, settings):
    docs = load_file(path, CORPUS, settings)
    chunks = split_documents(docs, 48, 8)
    assert_well_formed(chunks, 48)
    expected = {k: docs[0].metadata[k] for k in ("source", "title", "kind", "content_hash", "mtime")}
    for chunk in chunks:
        assert {k: chunk.metadata[k] for k in expected} == expected


def test_flat_metadata_replaces_none_and_flattens_lists():
    chunk = split_documents([make_doc("Some text.", section=None, tags=["a", "b"], extra={"x": 1})], 32, 0)[0]
    assert chunk.metadata["section"] == "" and chunk.metadata["tags"] == "a, b"
    assert chunk.metadata["extra"] == "{'x': 1}"
    assert flat_metadata({"page": None, "ok": True}) == {"page": "", "ok": True}


def test_bad_sizes_are_config_errors():
    with pytest.raises(ConfigError, match="KB_CHUNK_TOKENS"):
        split_documents([make_doc("text")], 8, 0)
    with pytest.raises(ConfigError, match="KB_CHUNK_OVERLAP"):
        split_documents([make_doc("text")], 64, 64)


# --- hard bounds on hostile text --------------------------------------------------------------


def random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 25)):
        choice = rng.random()
        if choice < 0.25:
            parts.append(ENGLISH * rng.randint(1, 3))
        elif choice < 0.4:
            parts.append(ARABIC * rng.randint(1, 3))
        elif choice < 0.5:
            parts.append(SWAHILI.replace(" ", "") * rng.randint(1, 4))  # a long word without spaces
        elif choice < 0.6:
            parts.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(50, 900))))
        elif choice < 0.7:
            parts.append(f"{'#' * rng.randint(1, 4)} Heading {rng.randint(0, 99)} " + "long " * rng.randint(0, 60))
        elif choice < 0.8:
            parts.append(" ".join(ENGLISH.split()[: rng.randint(1, 30)]) * 4)  # one very long line
        elif choice < 0.9:
            parts.append("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 200))))
        else:
            parts.append(rng.choice(["\n", "\n\n", "   ", "\t", "```", "<|endoftext|>", "😀" * 30, "—" * 40]))
    return rng.choice(["\n\n", "\n", " ", ""]).join(parts)


@pytest.mark.parametrize("seed", range(30))
def test_random_text_never_exceeds_the_limit(seed: int):
    rng = random.Random(seed)
    limit = rng.choice([16, 24, 48, 100, 320])
    overlap = rng.randint(0, limit - 1)
    source = rng.choice(["docs/r.md", "docs/r.txt", "docs/r.pdf", "docs/r.html"])
    docs = [make_doc(random_text(rng), source=source, page=i + 1) for i in range(rng.randint(1, 3))]
    chunks = split_documents(docs, limit, overlap)
    assert_well_formed(chunks, limit)
    assert [c.metadata["position"] for c in chunks] == list(range(len(chunks)))


@pytest.mark.parametrize(
    "text",
    [
        "x" * 20_000,                                    # one long word without spaces
        ARABIC.replace(" ", "") * 40,                    # Arabic without spaces
        (ARABIC * 60).replace(".", ""),                  # Arabic without sentence ends
        ENGLISH.replace(". ", ", ") * 60,                # one very long line
        "🙂🇪🇪" * 2000,                                  # multi-token characters
        "<|endoftext|> " * 300,                          # special-token text must not crash
    ],
    ids=["long-word", "arabic-nospace", "arabic", "long-line", "emoji", "special-token"],
)
@pytest.mark.parametrize("limit", [16, 64])
def test_hostile_text_is_bounded(text: str, limit: int):
    chunks = split_documents([make_doc(f"# Heading\n\n{text}"), make_doc(text, source="docs/b.txt")], limit, 4)
    assert_well_formed(chunks, limit)


@pytest.mark.parametrize("text", [ENGLISH * 8, ARABIC.replace(" ", "") * 10, "🙂" * 300], ids=["en", "ar", "emoji"])
def test_hard_split_fits_every_piece_and_prefers_spaces(text: str):
    prefix = "Section > Sub\n\n"
    pieces = hard_split(text, lambda piece: count_tokens(prefix + piece) <= 20, limit=20)
    assert len(pieces) > 1
    assert all(piece.strip() and count_tokens(prefix + piece) <= 20 for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())  # nothing lost or repeated
    if " " in text:
        assert all(piece.split()[-1] in text.split() for piece in pieces)  # cut between words


def test_long_heading_path_is_truncated_to_leave_room():
    text = "# " + "Very long heading " * 50 + "\n\n" + ENGLISH
    chunks = split_documents([make_doc(text)], 32, 0)
    assert_well_formed(chunks, 32)
    assert chunks[0].page_content.split("\n\n")[0].endswith("…")


def test_no_text_is_lost_without_overlap():
    text = "\n\n".join([ENGLISH * 3, ARABIC * 3, SWAHILI * 5])
    chunks = split_documents([make_doc(text, source="docs/a.txt")], 40, 0)
    assert_well_formed(chunks, 40)
    assert " ".join(c.page_content for c in chunks).split() == text.split()


def test_overlap_repeats_the_end_of_the_previous_chunk():
    words = [f"w{i}" for i in range(600)]
    chunks = split_documents([make_doc(" ".join(words), source="docs/a.txt")], 60, 20)
    assert_well_formed(chunks, 60)
    for previous, current in zip(chunks, chunks[1:], strict=False):
        shared = set(previous.page_content.split()) & set(current.page_content.split())
        tokens = count_tokens(" ".join(sorted(shared)))
        assert 10 <= tokens <= 26, (tokens, shared)  # ~overlap tokens: whole words, close to 20
        assert current.page_content.split()[0] in shared  # the overlap is at the start of the next chunk
