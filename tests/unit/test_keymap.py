"""Key bindings: ids are unique and remappable, and the README's key map is the real one."""

from __future__ import annotations

from pathlib import Path

from tui.ui.keys import GROUPS, binding_ids, check_keymap, keymap_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_binding_has_an_id_a_description_and_help() -> None:
    for _, bindings in GROUPS:
        for binding in bindings:
            assert binding.id and binding.description and binding.tooltip, binding
    ids = binding_ids()
    assert len(ids) == len(set(ids))


def test_unknown_ids_are_reported_and_known_ones_kept() -> None:
    checked = check_keymap({"retry-part": "t", "retry-parts": "x"})
    assert checked.keymap == {"retry-part": "t"}
    assert checked.problems == [
        f"[keys] retry-parts is not a binding id; use one of: {', '.join(binding_ids())}"
    ]


def test_readme_key_map_matches_the_bindings() -> None:
    text = README.read_text()
    start, end = "<!-- keymap:start -->\n", "<!-- keymap:end -->"
    assert start in text and end in text, "README lost its key map markers"
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown.strip() == keymap_markdown().strip(), (
        "README key map is stale; paste tui.ui.keys.keymap_markdown() between the markers"
    )
