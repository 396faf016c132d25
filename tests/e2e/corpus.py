"""A tiny help-centre corpus and app environment shared by the AppTest and browser tests."""

from __future__ import annotations

from pathlib import Path

from assistant.auth import hash_password

STAFF = ("sam", "staff-pass-1")
WRITER = ("wanjiru", "writer-pass-2")
ADMIN = ("ada", "admin-pass-3")

FILES = {
    "docs/refunds.md": (
        "---\ntitle: Refunds\nlang: en\n---\n\n# Refunds\n\n"
        "Refunds go back to the card you paid with within 5 to 10 working days after we receive "
        "the returned item. You can return most items within 30 days of delivery.\n"
    ),
    "docs/password.md": (
        "---\ntitle: Reset your password\nlang: en\n---\n\n# Reset your password\n\n"
        "To reset your password, click Forgot password on the sign-in page and enter your email. "
        "We send you a link that is valid for 30 minutes.\n"
    ),
    "docs/shipping.ar.md": (
        "---\ntitle: الشحن والتوصيل\nlang: ar\n---\n\n# الشحن والتوصيل\n\n"
        "يستغرق التوصيل القياسي من ثلاثة إلى خمسة أيام عمل. يمكنك تتبع طلبك من صفحة الطلبات "
        "في حسابك، وسنرسل لك رسالة عند شحن الطلب.\n"
    ),
    "faq/faq_en.csv": (
        "question,answer\n"
        "How long does delivery take?,Standard delivery takes 3 to 5 working days.\n"
        "Can I change my delivery address?,\"Yes, until the order ships: open Orders and choose Change address.\"\n"
    ),
}

# A new article a writer uploads in the tests, on a topic the corpus above does not cover.
GIFT_CARDS = (
    "gift-cards.md",
    (
        b"# Gift cards\n\nGift cards can be redeemed at checkout: enter the 16-digit gift card code "
        b"in the Gift card field. A gift card is valid for 24 months and cannot be exchanged for cash.\n"
    ),
)


def write_corpus(root: Path) -> Path:
    """Write the tiny corpus under `root` and return it."""
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def users_env() -> str:
    """KB_USERS with one staff, one writer and one admin account (hashes made here, per run)."""
    entries = [
        f"{STAFF[0]}:staff:{hash_password(STAFF[1])}",
        f"{WRITER[0]}:writer:{hash_password(WRITER[1])}",
        f"{ADMIN[0]}:admin:{hash_password(ADMIN[1])}",
    ]
    return ",".join(entries)


def app_env(tmp: Path) -> dict[str, str]:
    """Environment variables that point the app at a fresh data dir and the tiny corpus under `tmp`."""
    corpus = write_corpus(tmp / "corpus")
    return {
        "KB_DATA_DIR": str(tmp / "data"),
        "KB_CORPUS_DIR": str(corpus),
        "KB_USERS": users_env(),
        "KB_EMBEDDINGS": "local",
        "KB_CHROMA_MODE": "embedded",
        "KB_WEBHOOK_URL": "",
        "OPENAI_API_KEY": "",
        "OPENAI_BASE_URL": "",
    }
