"""The plain progress lines of a headless upload: one line per notable part event."""

from __future__ import annotations

import io

from tui.cli.report import TextReporter
from tui.core.model import Event


def _lines(*events: Event) -> list[str]:
    out = io.StringIO()
    reporter = TextReporter(None, out, lambda: 0.0, live=False)  # type: ignore[arg-type]
    for event in events:
        reporter(event)
    return out.getvalue().splitlines()


def test_a_part_message_that_names_its_part_is_not_prefixed_twice() -> None:
    expired = "part 2: its link expired (Gumroad part links live 15 min); abort and upload again"
    lines = _lines(
        Event("part", "abcdef123456", 0.0, state="expired", part=2, message=expired),
        Event("part", "abcdef123456", 0.0, state="failed", part=12, message="part 1: other"),
    )
    assert lines == [
        "abcdef12: part 2 expired: its link expired (Gumroad part links live 15 min); "
        "abort and upload again",
        "abcdef12: part 12 failed: part 1: other",  # another part's name is kept
    ]
