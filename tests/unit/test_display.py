"""Tests for tui.core.display: outside text made safe to show in a terminal."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.hostile import HOSTILE_NAMES, hidden_characters
from tui.core.display import is_hidden, visible

_ESCAPE = re.compile(r"\\(\\|n|r|t|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")
_NAMED = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
ANY_TEXT = st.text(st.characters(blacklist_categories=()))
"""Any text at all, lone surrogates (undecodable bytes of a file name) included."""


def unescape(shown: str) -> str:
    """The inverse of ``visible``, written from its documented rules: if every text comes
    back from what it showed, no two texts can look the same."""

    def back(match: re.Match[str]) -> str:
        body = match.group(1)
        return _NAMED.get(body) or chr(int(body[1:], 16))

    return _ESCAPE.sub(back, shown)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain name.bin", "plain name.bin"),
        ("café 📦 קובץ.bin", "café 📦 קובץ.bin"),
        ("esc\x1b]0;PWNED\x07\x1b[31mred.bin", "esc\\x1b]0;PWNED\\x07\\x1b[31mred.bin"),
        ("line one\nline two", "line one\\nline two"),
        ("tab\there\rcr", "tab\\there\\rcr"),
        ("del\x7f c1\x9b nul\x00", "del\\x7f c1\\x9b nul\\x00"),
        ("invoice-\u202egnp.exe", "invoice-\\u202egnp.exe"),
        ("a\u2066b\u2069c\u200ed\u200fe\u061c", "a\\u2066b\\u2069c\\u200ed\\u200fe\\u061c"),
        ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
        ("zero\u200bwidth\ufeffbom", "zero\\u200bwidth\\ufeffbom"),
        ("undecodable caf\udce9.bin", "undecodable caf\\udce9.bin"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"),
        ("back\\slash.bin", "back\\slash.bin"),
        ("C:\\new\\x1b", "C:\\\\new\\\\x1b"),
        ("ends with \\", "ends with \\"),
        ("\\\x1b", "\\\\\\x1b"),
        ("[bold]loud[/bold]", "[bold]loud[/bold]"),
    ],
)
def test_visible_escapes_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert unescape(shown) == text


def test_visible_takes_any_object() -> None:
    assert visible(3) == "3"
    assert visible(ValueError("bad\nname")) == "bad\\nname"


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_every_hostile_name_is_shown_without_controls(name: str) -> None:
    shown = visible(name)
    assert hidden_characters(shown) == []
    assert "\n" not in shown
    assert unescape(shown) == name


def test_is_hidden_by_category() -> None:
    assert all(is_hidden(chr(c)) for c in [*range(0x20), *range(0x7F, 0xA0)])
    assert not any(is_hidden(c) for c in "aZ09 ~é中📦\u200d")


@given(ANY_TEXT)
def test_visible_output_holds_no_hidden_character(text: str) -> None:
    shown = visible(text)
    assert not any(is_hidden(c) for c in shown)
    assert hidden_characters(shown) == []


@given(ANY_TEXT)
def test_visible_can_be_undone(text: str) -> None:
    assert unescape(visible(text)) == text


@given(ANY_TEXT, ANY_TEXT)
def test_different_texts_never_look_the_same(a: str, b: str) -> None:
    if a != b:
        assert visible(a) != visible(b)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_text_without_backslash_or_hidden_characters_is_unchanged(text: str) -> None:
    if "\\" not in text:
        assert visible(text) == text


def test_the_ascii_fast_path_agrees_with_the_rules_for_every_ascii_character() -> None:
    """Printable ASCII takes a shortcut; every ASCII character, alone and in a pair, still
    shows as the character-by-character rules say."""
    for code in range(128):
        char = chr(code)
        for text in (char, f"a{char}", f"\\{char}"):
            assert unescape(visible(text)) == text
            assert not any(is_hidden(c) for c in visible(text))
        if char != "\\" and not is_hidden(char):
            assert visible(f"name{char}.bin") == f"name{char}.bin"
