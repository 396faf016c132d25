"""Item 15 of issue 12: upload names are cut by UTF-8 bytes (file systems allow 255 bytes, not characters)."""

from __future__ import annotations

import pytest

from ui.uploads import MAX_NAME_BYTES, check_upload, save_upload

ARTICLE = "# 退货\n\n退货须在收货后30天内申请。\n".encode()


@pytest.mark.parametrize("stem", ["用户手册与退货政策说明" * 20, "دليل-المستخدم-" * 30, "a" * 400])
def test_a_long_name_is_saved_with_its_extension(settings, stem):
    name = check_upload(f"{stem}.md", ARTICLE, settings.max_file_mb)
    assert name.endswith(".md") and len(name.encode("utf-8")) <= MAX_NAME_BYTES
    path = save_upload(settings.corpus_dir, name, ARTICLE)
    assert path.read_bytes() == ARTICLE
    assert path.name == name and name[:-3] and stem.startswith(name[:-3])  # cut on a character boundary


def test_the_cut_never_splits_a_character(settings):
    # Two-byte letters after one ASCII letter: an odd byte budget must not leave half a character.
    name = check_upload("x" + "ж" * 300 + ".txt", "Возврат в течение 30 дней.".encode(), settings.max_file_mb)
    name.encode("utf-8").decode("utf-8")
    assert name.endswith(".txt") and set(name[1:-4]) == {"ж"}
