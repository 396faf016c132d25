"""Every page of `ui/app.py` through Streamlit's AppTest, against a tiny corpus in a temp dir.

AppTest runs the script in this process, so st.cache_resource is shared by all the sessions
below: the index is built once (first-run ingest) and each test opens fresh sessions on it.
Pages are callables registered with st.navigation, so tests move between them the way the
app does after sign-in: by setting `goto` in the session state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.auth import can_access
from assistant.config import Settings
from assistant.cx.display import rate_text
from assistant.cx.report import build_report
from assistant.golden import load_gold_set
from assistant.phrases import phrase
from kb_ingest.loaders import SUPPORTED_EXTENSIONS
from tests.e2e.corpus import ADMIN, GIFT_CARDS, STAFF, WRITER
from tests.helpers import streamlit_app_env
from ui.first_run import first_run_index
from ui.resources import fingerprint, load_resources
from ui.uploads import UploadRejected, check_upload

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
TIMEOUT = 60


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Point Settings.from_env at a temp data dir + tiny corpus for this module; restore afterwards."""
    with streamlit_app_env(tmp_path_factory.mktemp("ui"), KB_MAX_FILE_MB="1") as values:
        yield values


@pytest.fixture(scope="module")
def resources(env):
    """The very objects the app uses (same process, same cache_resource entry)."""
    AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # builds them and starts the first-run ingest
    settings = Settings.from_env()
    res = load_resources(settings, fingerprint(settings))
    assert first_run_index(res, fingerprint(settings)).wait(120), "the first-run ingest did not finish"
    return res


# ---- helpers --------------------------------------------------------------------------------


def new_session(env) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sign_in(at: AppTest, user: str, password: str) -> AppTest:
    at.text_input(key="sign_in_user").set_value(user)
    at.text_input(key="sign_in_password").set_value(password)
    button(at, "Sign in").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(at: AppTest, area: str) -> AppTest:
    at.session_state["goto"] = area
    return at.run()


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}; have {[b.label for b in at.button]}"
    return matches[0]


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [a.value for kind in (at.info, at.success, at.warning, at.error) for a in kind]
    return "\n".join(parts)


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---- Help (customers) -----------------------------------------------------------------------


def test_help_is_the_default_page_and_exposes_nothing_else(env, resources):
    assert resources.indexer.store.count() > 0      # the first run indexed the corpus by itself
    at = new_session(env)
    text = page_text(at)
    assert "How can we help?" in text
    assert "An AI assistant answers here; a person is one click away." in text
    assert button(at, "Talk to a person")
    for area in ("workbench", "handoffs", "content", "insights"):
        open_page(at, area)
        assert not titles(at), f"{area} rendered without sign-in"
        assert "How can we help?" in page_text(at)
        assert not at.error, f"{area} is listed in the navigation (its own check refused it)"


def test_help_question_gets_a_cited_answer_and_feedback_is_recorded(env, resources):
    at = ask(new_session(env), "How long do refunds take to reach my card?")
    answer = at.chat_message[-1].markdown[0].value
    assert "5 to 10 working days" in answer and "[1]" in answer
    assert at.expander[0].label.startswith("[1] Refunds")
    cited = page_text(at)
    assert "Source: docs/refunds.md" in cited
    assert "> Refunds go back to the card" in cited
    session = at.session_state["help_session"]
    button(at, "Helpful").click().run()
    index = at.session_state["help_history"][-1]["answer"].message_index
    at.text_input(key=f"help_comment_{index}").set_value("clear, thanks")
    button(at, "Send").click().run()
    assert "Thank you for your feedback." in page_text(at)
    stats = resources.log.stats()
    assert stats["thumbs_up"] >= 1
    assert any(m["role"] == "assistant" for m in resources.log.messages(session))


def test_person_button_hands_off_with_queue_position(env, resources):
    at = new_session(env)
    button(at, "Talk to a person").click().run()
    assert not at.exception
    info = " ".join(i.value for i in at.info)
    assert "passed on to our support team" in info and "People ahead of you:" in info
    ticket_id = info.split("(ticket ")[1].split(")")[0]
    assert resources.tickets.get(ticket_id).session_id == at.session_state["help_session"]
    assert "won't need to repeat yourself" in at.chat_message[-1].markdown[0].value


def test_arabic_question_switches_the_interface_and_renders_right_to_left(env, resources):
    at = ask(new_session(env), "كم يستغرق التوصيل القياسي؟")
    assert at.selectbox(key="help_lang").value == "ar"
    reply = at.chat_message[-1].markdown[0].value
    assert reply.startswith('<div dir="rtl" lang="ar"')
    text = page_text(at)
    assert "يجيب هنا مساعد" in text            # the notice, now in Arabic
    assert button(at, "تحدّث مع شخص")           # the person button, in Arabic


def test_low_confidence_answer_offers_a_person(env, resources, monkeypatch):
    # Deterministic: with the bar at 0.999 every answer is "low confidence" and comes with an offer.
    strict = resources.settings.with_overrides(confidence_threshold=0.999)
    monkeypatch.setattr(resources.assistant, "settings", strict)
    declined = ask(new_session(env), "Do you sell spaceship engines for Mars missions?")
    assert phrase("offer_person", "en") in declined.chat_message[-1].markdown[0].value
    button(declined, "No thanks").click().run()
    assert "You can still talk to a person" in page_text(declined)
    assert not [b for b in declined.button if b.label == "Yes, connect me"]

    accepted = ask(new_session(env), "Do you sell spaceship engines for Mars missions?")
    button(accepted, "Yes, connect me").click().run()
    assert "passed on to our support team" in " ".join(i.value for i in accepted.info)


def test_streamed_tokens_end_in_the_final_answer(env, resources, monkeypatch):
    real_reply = resources.assistant.reply
    seen = []

    def streaming(session_id, message, on_token=None):
        answer = real_reply(session_id, message)
        for word in answer.text.split(" "):
            on_token(word + " ")           # what the LLM path does, token by token
            seen.append(word)
        return answer

    monkeypatch.setattr(resources.assistant, "reply", streaming)
    at = ask(new_session(env), "How do I reset my password?")
    assert len(seen) > 5
    assert "Forgot password" in at.chat_message[-1].markdown[0].value


def test_assistant_failure_shows_the_friendly_phrase_not_a_traceback(env, resources, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire at /secret/path")

    monkeypatch.setattr(resources.assistant, "reply", broken)
    at = ask(new_session(env), "Where is my order?")
    text = page_text(at)
    assert phrase("error", "en") in text
    assert "database on fire" not in text and not at.exception
    assert button(at, "Talk to a person")


# ---- sign-in gate ---------------------------------------------------------------------------


def test_wrong_password_is_refused_and_staff_pages_stay_hidden(env, resources):
    at = sign_in(new_session(env), STAFF[0], "not-the-password")
    assert "Wrong user name or password." in page_text(at)
    assert "role" not in at.session_state
    open_page(at, "workbench")
    assert "Workbench" not in titles(at) and "How can we help?" in page_text(at)
    assert "This page is for signed-in staff" not in page_text(at)


def test_staff_sign_in_lands_on_workbench_but_not_content(env, resources):
    at = sign_in(new_session(env), *STAFF)
    assert titles(at) == ["Workbench"]
    assert open_page(at, "handoffs") and titles(at) == ["Handoffs"]
    assert open_page(at, "insights") and titles(at) == ["Insights"]
    open_page(at, "content")
    assert "Content" not in titles(at)
    button(at, "Sign out").click().run()
    open_page(at, "handoffs")
    assert not titles(at)


def test_writer_sees_content_but_not_handoffs(env, resources):
    at = sign_in(new_session(env), *WRITER)
    assert titles(at) == ["Content"]
    for area in ("handoffs", "workbench", "insights"):
        open_page(at, area)
        assert titles(at) == ["Content"] and not at.error, area


def test_admin_sees_every_page(env, resources):
    at = sign_in(new_session(env), *ADMIN)
    for area, title in (("content", "Content"), ("handoffs", "Handoffs"), ("insights", "Insights")):
        assert open_page(at, area) and titles(at) == [title]


REFUSED = [
    (area, role)
    for area in ("workbench", "handoffs", "content", "insights")
    for role in (None, "writer", "staff", "guest")
    if not can_access(role, area)
]


@pytest.mark.parametrize("area, role", REFUSED)
def test_page_code_refuses_without_the_role(area, role):
    """Defence in depth: even when called directly, a page renders nothing but a refusal."""

    def page(module_name: str, role_name):
        import importlib

        import streamlit as st  # AppTest runs this function's source alone: it needs its own import

        if role_name:
            st.session_state["role"] = role_name
        importlib.import_module(f"ui.views.{module_name}").render(None, None)

    at = AppTest.from_function(page, args=(area, role), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.title
    assert "This page is for signed-in staff" in at.error[0].value


# ---- Workbench ------------------------------------------------------------------------------


def test_workbench_shows_chunks_signals_and_saves_a_golden_case(env, resources):
    at = sign_in(new_session(env), *STAFF)
    at.text_area(key="wb_question").set_value("How do I reset my password?")
    button(at, "Ask").click().run()
    assert not at.exception
    chunks = at.dataframe[1].value
    assert {"source", "language", "fused", "dense", "dense rank", "lexical", "lexical rank"} <= set(chunks.columns)
    assert "docs/password.md" in set(chunks["source"])
    signals = at.dataframe[0].value
    assert "confidence" in set(signals["signal"])
    assert {m.label for m in at.metric} >= {"Confidence", "Action"}
    assert "Mode **extractive**" in page_text(at)
    assert "Reasons:" in page_text(at)
    assert at.multiselect(key="wb_golden_sources").value == ["docs/password.md"]
    button(at, "Save as golden test case").click().run()
    golden = Path(env["KB_DATA_DIR"]) / "golden.jsonl"
    assert "Saved to" in page_text(at)
    cases = load_gold_set(golden)
    assert cases[-1].user_input == "How do I reset my password?"
    assert cases[-1].expected_sources == ("docs/password.md",)
    assert json.loads(golden.read_text(encoding="utf-8").splitlines()[-1])["language"] == "en"
    # Staff experiments open no tickets and stay out of the customer metrics.
    assert resources.log.messages(at.session_state["wb_session"]) == []


def test_workbench_new_conversation_resets_the_session(env, resources):
    at = sign_in(new_session(env), *STAFF)
    first = at.session_state["wb_session"]
    at.text_area(key="wb_question").set_value("agent please")
    button(at, "Ask").click().run()
    assert "asked_for_human" in page_text(at)
    button(at, "New conversation").click().run()
    assert at.session_state["wb_session"] != first
    assert "Ask a question to see" in page_text(at)


# ---- Handoffs -------------------------------------------------------------------------------


def test_handoffs_lists_a_ticket_and_claim_resolve_work_with_refusals(env, resources):
    customer = ask(new_session(env), "Where is my parcel? ![pixel](http://tracker.invalid/p.png)")
    button(customer, "Talk to a person").click().run()
    ticket_id = resources.tickets.find_active(customer.session_state["help_session"]).ticket_id

    alice = open_page(sign_in(new_session(env), *STAFF), "handoffs")
    bob = open_page(sign_in(new_session(env), *ADMIN), "handoffs")
    for staff in (alice, bob):
        assert ticket_id in set(staff.dataframe[0].value["ticket"])
        staff.selectbox(key="handoffs_selected").set_value(ticket_id).run()
        assert f"Ticket {ticket_id}" in [s.value for s in staff.subheader]
        assert "Where is my parcel?" in page_text(staff)                   # the transcript...
        assert "\\!\\[pixel\\]" in page_text(staff)                       # ...shown literally, never fetched
    button(alice, "Claim").click().run()
    assert f"You claimed {ticket_id}." in page_text(alice)
    assert resources.tickets.get(ticket_id).claimed_by == STAFF[0]
    button(bob, "Claim").click().run()                  # bob's page is stale: the store refuses
    assert any("to be open to claim it" in w.value for w in bob.warning)
    button(alice, "Resolve").click().run()
    assert f"{ticket_id} is resolved." in page_text(alice)
    button(bob, "Resolve").click().run()
    assert any("nothing to do" in w.value for w in bob.warning)
    assert resources.tickets.get(ticket_id).status == "resolved"


def test_handoffs_page_is_paginated_and_shows_people_ahead(env, resources):
    """Issue 12 item 17: the queue is read a page at a time, never every ticket with its transcript."""
    from assistant.types import Turn
    from ui.views.handoffs import PAGE_SIZE

    for ticket in resources.tickets.list():  # start from an empty queue (other tests leave tickets)
        if ticket.active:
            resources.tickets.resolve(ticket.ticket_id, "cleanup")
    made = [resources.tickets.create(f"page-{n}", [Turn("user", f"parcel {n} is late")], "en")
            for n in range(PAGE_SIZE + 3)]
    at = open_page(sign_in(new_session(env), *STAFF), "handoffs")
    first = at.dataframe[0].value
    assert len(first) == PAGE_SIZE
    assert sorted(first["people ahead"]) == list(range(3, PAGE_SIZE + 3))  # triage order: the newest first
    assert any("Tickets 1–25 of 28" in c.value for c in at.caption)
    at.number_input(key="handoffs_page").set_value(2).run()
    second = at.dataframe[0].value
    assert sorted(second["people ahead"]) == [0, 1, 2] and set(second["ticket"]) == {t.ticket_id for t in made[:3]}
    at.selectbox(key="handoffs_selected").set_value(made[0].ticket_id).run()
    assert "parcel 0 is late" in page_text(at)
    for ticket in made:
        resources.tickets.resolve(ticket.ticket_id, "cleanup")


def test_a_user_added_with_kb_users_signs_in(env, resources):
    resources.users.add("dbuser", "writer", "from-the-database")
    try:
        at = sign_in(new_session(env), "dbuser", "from-the-database")
        assert at.session_state["role"] == "writer" and at.session_state["user"] == "dbuser"
    finally:
        resources.users.remove("dbuser")


# ---- Content --------------------------------------------------------------------------------


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="content_files").set_value([(name, data, "application/octet-stream")])
    button(at, "Upload and index").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_content_upload_refuses_bad_files(env, resources):
    corpus = Path(env["KB_CORPUS_DIR"])
    at = sign_in(new_session(env), *WRITER)
    assert sorted(at.file_uploader(key="content_files").allowed_type) == sorted(SUPPORTED_EXTENSIONS)
    cases = {
        "manual.md": b"MZ\x90\x00\x03 a Windows program renamed to .md",
        "scan.pdf": b"just text pretending to be a PDF",
        ".env.md": b"# hidden",
        "big.md": b"# Big\n" + b"word " * 230_000,
    }
    expected = {"manual.md": "binary", "scan.pdf": "Expected a PDF", ".env.md": "hidden", "big.md": "at most 1 MB"}
    for name, data in cases.items():
        errors = " ".join(e.value for e in upload(at, name, data).error)
        assert expected[name] in errors, (name, errors)
    assert not (corpus / "uploads").exists() or not any((corpus / "uploads").iterdir())
    # The browser only offers allowed extensions; the server check refuses the rest anyway.
    with pytest.raises(UploadRejected, match="Expected one of"):
        check_upload("setup.exe", b"MZ", 1)


def test_content_upload_sanitises_a_traversal_name_then_help_cites_the_new_article(env, resources, tmp_path):
    corpus = Path(env["KB_CORPUS_DIR"])
    at = sign_in(new_session(env), *WRITER)
    name, data = GIFT_CARDS
    upload(at, f"../../../{name}", data)
    assert [p.name for p in (corpus / "uploads").iterdir()] == [name]
    assert not (corpus.parent / name).exists() and not (corpus.parent.parent / name).exists()
    assert at.metric[0].label == "Added" and at.metric[0].value == "1"
    assert f"uploads/{name}" in set(at.dataframe[0].value["source"])

    customer = ask(new_session(env), "How do I redeem a gift card code?")
    assert "Gift cards" in " ".join(e.label for e in customer.expander)
    assert f"Source: uploads/{name}" in page_text(customer)


def test_content_reindex_shows_the_diff_and_remove_source_works(env, resources):
    corpus = Path(env["KB_CORPUS_DIR"])
    at = sign_in(new_session(env), *WRITER)
    hours = corpus / "docs" / "opening-hours.md"
    hours.write_text("# Opening hours\n\nOur support team works 8:00-18:00.\n", encoding="utf-8")
    button(at, f"Reindex {corpus.name}").click().run()
    assert not at.exception
    counts = {m.label: m.value for m in at.metric}
    assert counts["Added"] == "1" and counts["Failed"] == "0" and int(counts["Unchanged"]) >= 4
    assert "docs/opening-hours.md" in set(at.dataframe[0].value["source"])

    hours.unlink()
    (corpus / "faq" / "broken.json").write_text("{not json", encoding="utf-8")
    button(at, f"Reindex {corpus.name}").click().run()
    counts = {m.label: m.value for m in at.metric}
    assert counts["Removed"] == "1" and counts["Failed"] == "1"
    assert any("faq/broken.json" in e.value for e in at.error)
    (corpus / "faq" / "broken.json").unlink()

    at.selectbox(key="content_remove_source").set_value("docs/password.md")
    button(at, "Remove source").click().run()
    assert "Removed docs/password.md" in page_text(at)
    assert "docs/password.md" not in {f.source for f in resources.indexer.indexed_files()}
    button(at, f"Reindex {corpus.name}").click().run()      # the file is still there: it comes back
    assert {m.label: m.value for m in at.metric}["Added"] == "1"


def test_content_groups_unanswered_questions(env, resources):
    for question in ("Do you deliver to the Moon?", "Can you ship my parcel to the moon?"):
        resources.log.record_unanswered(question, "en", "seeded")
    at = sign_in(new_session(env), *WRITER)
    groups = at.dataframe[-1].value
    assert {"question", "count", "languages", "examples"} <= set(groups.columns)
    assert groups["count"].sum() >= 2


# ---- Insights -------------------------------------------------------------------------------


def test_insights_renders_the_metrics(env, resources):
    ask(new_session(env), "How long does delivery take?")
    at = open_page(sign_in(new_session(env), *STAFF), "insights")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert {"Conversations", "Self-service resolution", "FCR", "Escalation rate", "CSAT", "CES", "NPS"} <= set(metrics)
    stats = resources.log.stats()     # every conversation of this module started today: all in "Last 12 weeks"
    assert metrics["Conversations"] == str(stats["conversations"]) and stats["conversations"] >= 1
    figures = build_report(resources.log.db, resources.settings, None).figures
    assert metrics["Escalation rate"] == rate_text(figures.escalation_rate)   # "—" until a conversation ends
    at.selectbox(key="insights_period").set_value("Last 4 weeks").run()
    assert not at.exception and metrics["Conversations"] == {m.label: m.value for m in at.metric}["Conversations"]


def test_insights_shows_the_calibration_in_force_per_language(env, resources):
    at = sign_in(new_session(env), *STAFF)
    open_page(at, "insights")
    assert "Confidence calibration" in [s.value for s in at.subheader]
    table = at.dataframe[-1].value
    calibration = resources.assistant.retriever.snapshot().calibration
    assert calibration is not None and "all languages" in list(table["language"])
    floor = resources.assistant.settings.confidence_threshold
    assert all(offer >= floor for offer in table["offer a person below"])
    assert set(table["near misses"]) - {0}   # the thresholds come from the index's own probes
