"""The journal reads parts by position: its column list must follow Part's fields."""

from __future__ import annotations

from dataclasses import fields

from tui.core.journal_rows import PART_COLS
from tui.core.model import Part


def test_part_columns_follow_the_fields_of_part() -> None:
    columns = [c.strip().strip('"') for c in PART_COLS.split(",")]
    assert columns == [f.name for f in fields(Part)]
