"""Insights: how this help centre's confidence is calibrated (assistant/calibration.py), per language.

Shows, for each question language, the thresholds in force (the calibrated ones, never below the
configured floor) and the reliability curve from the index's own probes: the share of right answers
per confidence band among its FAQ questions and headings asked across languages, with the
leave-one-out near misses counted as wrong.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from assistant.calibration import Calibration
from assistant.config import Settings
from assistant.phrases import language_name


def threshold_rows(calibration: Calibration, settings: Settings) -> list[dict]:
    """One row per language (and "all"): thresholds in force, and the probes behind them."""
    floor = (settings.confidence_threshold, settings.abstain_threshold)
    rows = []
    for code, own in [*calibration.languages.items(), ("all", calibration.pooled)]:
        offer, abstain = calibration.thresholds(code, floor) if code != "all" else (
            max(own.offer_below, floor[0]), max(own.abstain_below, floor[1]))
        rows.append({
            "language": language_name(code, "en") if code != "all" else "all languages",
            "offer a person below": round(offer, 3), "say 'not in the help centre' below": round(abstain, 3),
            "calibrated offer": own.offer_below, "calibrated abstain": own.abstain_below,
            "near misses": own.near_misses, "answerable probes": own.answerable,
        })
    return rows


def curve_frame(calibration: Calibration) -> pd.DataFrame:
    """Share of right answers per confidence bin, one column per language."""
    series = {
        language_name(code, "en"): pd.Series({centre: share for centre, share, _ in own.curve})
        for code, own in calibration.languages.items() if own.curve
    }
    frame = pd.DataFrame(series).sort_index()
    frame.index.name = "confidence"
    return frame


def render_calibration(calibration: Calibration | None, settings: Settings) -> None:
    st.subheader("Confidence calibration")
    if settings.calibration == "off":
        st.caption("Calibration is off (KB_CALIBRATION=off): the configured thresholds apply to every language.")
    if calibration is None:
        st.info("No calibration yet: it is fitted when the help centre is indexed (FAQ questions and headings "
                "are needed to probe it). Until then the configured thresholds apply.")
        return
    st.caption(f"Fitted on {calibration.probes} questions the help centre asks itself. Thresholds never go "
               "below the configured ones (KB_CONFIDENCE_THRESHOLD, KB_ABSTAIN_THRESHOLD).")
    st.dataframe(pd.DataFrame(threshold_rows(calibration, settings)), hide_index=True)
    frame = curve_frame(calibration)
    if not frame.empty:
        st.line_chart(frame, x_label="confidence", y_label="share answered right")
