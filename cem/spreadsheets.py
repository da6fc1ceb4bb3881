"""Cells for the exports: text a spreadsheet would run as a formula stays text.

A client or project named `=HYPERLINK("http://evil.example", "click")` is imported like any name;
written raw into an export, a spreadsheet program runs it when a manager opens the file (CSV or
formula injection). In CSV such text gets a leading apostrophe, which spreadsheet programs read as
"this is text"; in XLSX the cell is written as text.
"""

import io

import pandas as pd

# What a spreadsheet program reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """`value` as a CSV cell: text starting like a formula is kept text with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_cell(value) for value in values]


def xlsx_bytes(frames: dict[str, pd.DataFrame]) -> bytes:
    """The frames as the sheets of one workbook, every text cell written as text."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, frame in frames.items():
            frame.to_excel(writer, sheet_name=sheet[:31], index=False)
        for worksheet in writer.book.worksheets:
            for row in worksheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # openpyxl takes text starting with "=" as a formula
                        cell.data_type = "s"
    return buffer.getvalue()
