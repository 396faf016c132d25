"""Builders for hostile and broken files: each returns the bytes (small on disk, made in well under a second)."""

from __future__ import annotations

import io
import random
import zipfile
import zlib

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

ARTICLE = "# Loyalty points\n\nLoyalty points are added to your account 48 hours after delivery.\n"


def text_pdf(text: str = "Loyalty points are added 48 hours after delivery.") -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(w=0, text=text)
    return bytes(pdf.output())


def truncated_pdf() -> bytes:
    data = text_pdf()
    return data[: len(data) // 2]


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(text_pdf())))
    writer.encrypt("customer-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def textless_pdf() -> bytes:
    """A page with only a drawing: what a scan without OCR looks like to a text extractor."""
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def blank_pages_pdf(pages: int = 10_000) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(72, 72)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_count_bomb_pdf(pages: int = 20_000) -> bytes:
    """One page object listed `pages` times in the page tree (~6 bytes a page on disk)."""
    kids = b" ".join([b"3 0 R"] * pages)
    return _pdf_objects([
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Count %d/Kids[" % pages + kids + b"]>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>",
    ])


def zip_bomb(megabytes: int = 64) -> bytes:
    """A zip of a file of zeros (64 MB inflated, ~60 KB stored), to be renamed .pdf."""
    out = io.BytesIO()
    block = bytes(1 << 20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.bin", "w") as member:
            for _ in range(megabytes):
                member.write(block)
    return out.getvalue()


def stream_bomb_pdf(megabytes: int = 100) -> bytes:
    """A valid one-page PDF whose Flate content stream inflates to `megabytes` (~100 KB on disk)."""
    squeezer = zlib.compressobj(9)
    block = bytes(1 << 20)
    stream = b"".join(squeezer.compress(block) for _ in range(megabytes)) + squeezer.flush()
    return _one_page_pdf(stream)


def _one_page_pdf(flate_stream: bytes) -> bytes:
    return _pdf_objects([
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Count 1/Kids[3 0 R]>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d/Filter/FlateDecode>>stream\n" % len(flate_stream) + flate_stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ])


def _pdf_objects(objects: list[bytes]) -> bytes:
    """A PDF file from numbered object bodies (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def random_junk(size: int = 4096, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def elf_junk() -> bytes:
    return b"\x7fELF\x02\x01\x01" + random_junk(2048, seed=2)


def png_junk() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + random_junk(1024, seed=3)


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def huge_number_json() -> bytes:
    return b'[{"question": "How many points?", "answer": ' + b"9" * 5000 + b"}]"


def huge_field_csv() -> bytes:
    return b'question,answer\n"What?","' + b"a " * 100_000 + b'"\n'


def base64_image_markdown() -> bytes:
    """An article with a pasted 400 KB image as a data: URI (as some Markdown editors save it)."""
    import base64

    image = base64.b64encode(png_junk() * 300).decode()
    return (ARTICLE + f"\n![screenshot](data:image/png;base64,{image})\n").encode()
