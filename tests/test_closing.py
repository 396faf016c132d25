"""Thanks and goodbye end a conversation, in the five languages; a question with thanks in it does not."""

from __future__ import annotations

import pytest

from assistant.closing import closing_language
from assistant.conversation_log import ConversationLog
from assistant.endings import ConversationEnd
from assistant.phrases import phrase
from tests.helpers import raw_rows

CLOSINGS = [
    ("Thanks!", "en"), ("thank you so much 🙏", "en"), ("ok bye", "en"), ("Great, that helps. Thanks a lot", "en"),
    ("شكراً جزيلاً", "ar"), ("مع السلامة", "ar"), ("تمام، شكرا", "ar"),
    ("Asante sana!", "sw"), ("sawa, kwaheri", "sw"),
    ("Na gode sosai", "ha"), ("To, sai anjima", "ha"),
    ("Aitäh!", "et"), ("Suur aitäh, head aega", "et"), ("tänan väga", "et"),
]
NOT_CLOSINGS = [
    "Thanks, how do I reset my password?", "thanks?", "My refund, thanks", "no thanks", "ok", "",
    "Asante, nataka kubadilisha anwani yangu", "شكرا، أين طلبي؟", "Aitäh, aga kus mu pakk on",
    "thanks " * 12,
]


@pytest.mark.parametrize(("message", "language"), CLOSINGS)
def test_thanks_and_goodbye_in_every_language(message, language):
    assert closing_language(message) == language


@pytest.mark.parametrize("message", NOT_CLOSINGS)
def test_questions_and_other_messages_are_not_an_end(message):
    assert closing_language(message) is None


def test_the_conversation_language_wins_when_the_words_are_shared():
    assert closing_language("ok", prefer="sw") is None
    assert closing_language("Thanks", prefer="et") == "en"   # English words: an English reply


def test_a_closing_is_answered_logged_and_ends_the_conversation(db_settings):
    log = ConversationLog(db_settings)
    ends = ConversationEnd(log)
    assert ends.reply_to_closing("s1", "How do I pay?", "en") is None
    assert log.conversation("s1") is None                     # nothing logged for a real question
    answer = ends.reply_to_closing("s1", "Asante sana!", "en")
    assert answer.text == phrase("closing", "sw") and answer.language == "sw" and answer.mode == "none"
    assert answer.message_index == 1
    stored = log.messages("s1")
    assert [(m["role"], m["action"]) for m in stored] == [("user", None), ("assistant", "close")]
    assert log.conversation("s1")["end_reason"] == "thanks"
    url = db_settings.resolved_database_url
    assert raw_rows(url, "SELECT COUNT(*) FROM unanswered")[0][0] == 0   # "thanks" is not a gap in the help centre
    ends.end("s1", "done")
    assert log.conversation("s1")["end_reason"] == "done"
    with pytest.raises(ValueError, match="Expected an end reason"):
        ends.end("s1", "bored")


def test_without_a_log_the_reply_still_comes():
    answer = ConversationEnd(None).reply_to_closing("s1", "Aitäh!", "en")
    assert answer.language == "et" and answer.message_index == -1
