"""Every key binding with its id, description and help line; remapping from ``[keys]``.

Ids are what users write in the config (``[keys] retry-part = "t"``); the help screen,
the README's key map and the footer all read these lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from textual.binding import Binding

APP_BINDINGS: list[Binding] = [
    Binding("question_mark", "help", "Help", id="help", tooltip="Show every key"),
    Binding(
        "q",
        "quit",
        "Quit",
        id="quit",
        tooltip="Quit; with the service uploads go on, in-process they pause",
    ),
    Binding(
        "Q",
        "pause_quit",
        "Pause+quit",
        id="pause-quit",
        tooltip="Pause every upload the service drives, then quit",
    ),
]

MAIN_BINDINGS: list[Binding] = [
    Binding("n", "new_batch", "New", id="new-batch", tooltip="Pick files and an account, start"),
    Binding("p", "pause_resume", "Pause/Resume", id="pause-resume", tooltip="Pause or resume"),
    Binding(
        "r",
        "retry_part",
        "Retry",
        id="retry-part",
        tooltip="Send the part under the cursor again",
    ),
    Binding(
        "R",
        "retry_failed",
        "Retry all",
        id="retry-failed",
        tooltip="Send every failed part again",
    ),
    Binding("c", "complete", "Complete", id="complete", tooltip="Finish the upload on the server"),
    Binding("a", "abort", "Abort", id="abort", tooltip="Discard the upload on the server"),
    Binding(
        "v", "verify", "Verify", id="verify", tooltip="Re-hash the local file against the parts"
    ),
    Binding(
        "f",
        "refresh_remote",
        "Server",
        id="refresh-remote",
        tooltip="Ask the server which parts it holds",
    ),
    Binding(
        "i", "inspect", "Inspect", id="inspect", tooltip="Why is it stuck? Journal + server + file"
    ),
    Binding("y", "copy_url", "Copy URL", id="copy-url", tooltip="Copy the object's URL (OSC 52)"),
    Binding(
        "A",
        "accounts",
        "Accounts",
        id="accounts",
        show=False,  # the footer is full at 80 columns; help and the palette list it
        tooltip="List accounts and check them",
    ),
    Binding(
        "slash",
        "search",
        "Search",
        id="search",
        show=False,
        tooltip="Search every session, folded finished ones too",
    ),
    Binding(
        "F",
        "toggle_finished",
        "Finished",
        id="toggle-finished",
        show=False,
        tooltip="Show every finished session, or fold them",
    ),
    Binding(
        "escape",
        "clear_search",
        "Clear search",
        id="clear-search",
        show=False,
        tooltip="Clear the search",
    ),
    Binding(
        "tab",
        "app.focus_next",
        "Sessions/Parts",
        id="focus-next",
        show=False,
        tooltip="Move between the tables",
    ),
]

BROWSER_BINDINGS: list[Binding] = [
    Binding("space", "mark", "Mark", id="browser.mark", tooltip="Mark or unmark the file"),
    Binding(
        "enter", "open", "Open", id="browser.open", tooltip="Open the directory (or mark the file)"
    ),
    Binding("backspace", "parent", "Up", id="browser.parent", tooltip="Go to the parent directory"),
    Binding(
        "slash", "filter", "Filter", id="browser.filter", tooltip="Filter names in this directory"
    ),
    Binding("a", "account", "Account", id="browser.account", tooltip="Choose the account"),
    Binding("s", "start", "Start", id="browser.start", tooltip="Upload the marked files"),
    Binding("escape", "cancel", "Back", id="browser.cancel", tooltip="Back without starting"),
]

PICKER_BINDINGS: list[Binding] = [
    Binding("enter", "choose", "Choose", id="accounts.choose", tooltip="Use this account"),
    Binding(
        "c", "check", "Check again", id="accounts.check", tooltip="Check the connections again"
    ),
    Binding(
        "s", "sign_in", "Sign in", id="accounts.sign-in", tooltip="Sign a Box OAuth account in"
    ),
    Binding("escape", "cancel", "Back", id="accounts.cancel", tooltip="Close without choosing"),
]

INSPECT_BINDINGS: list[Binding] = [
    Binding("x", "fix", "Do the fix", id="inspect.fix", tooltip="Run the suggested action"),
    Binding(
        "f", "reload", "Ask again", id="inspect.reload", tooltip="Ask the server and the file again"
    ),
    Binding("escape", "close", "Back", id="inspect.close", tooltip="Back to the sessions"),
]

GROUPS: tuple[tuple[str, Sequence[Binding]], ...] = (
    ("Sessions", MAIN_BINDINGS),
    ("Everywhere", APP_BINDINGS),
    ("File browser", BROWSER_BINDINGS),
    ("Account picker", PICKER_BINDINGS),
    ("Inspect", INSPECT_BINDINGS),
)


def binding_ids() -> list[str]:
    """Every binding id users may remap."""
    return [b.id for _, group in GROUPS for b in group if b.id]


@dataclass(frozen=True)
class KeymapCheck:
    """The usable part of a ``[keys]`` table and one line per entry that was ignored."""

    keymap: dict[str, str]
    problems: list[str]


def check_keymap(keys: Mapping[str, str]) -> KeymapCheck:
    """Keep the entries that name a known binding; explain the others."""
    known = binding_ids()
    good: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, key in keys.items():
        if binding_id in known:
            good[binding_id] = key
        else:
            problems.append(
                f"[keys] {binding_id} is not a binding id; use one of: {', '.join(known)}"
            )
    return KeymapCheck(good, problems)


def key_rows(bindings: Iterable[Binding], keymap: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(keys, description, help) for each binding, with remapped keys applied."""
    rows = []
    for binding in bindings:
        keys = keymap.get(binding.id or "", binding.key)
        shown = ", ".join(_pretty(k.strip()) for k in keys.split(","))
        rows.append((shown, binding.description, binding.tooltip))
    return rows


_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "space": "space",
    "escape": "esc",
    "backspace": "backspace",
    "enter": "enter",
    "tab": "tab",
}


def _pretty(key: str) -> str:
    if key in _NAMES:
        return _NAMES[key]
    return key.replace("ctrl+", "^")


def keymap_markdown() -> str:
    """The key map as Markdown tables, one per screen (the README carries this text)."""
    out: list[str] = []
    for title, bindings in GROUPS:
        out += [f"**{title}**", "", "| key | id | does |", "| --- | --- | --- |"]
        for binding in bindings:
            keys = " ".join(f"`{_pretty(k.strip())}`" for k in binding.key.split(","))
            out.append(f"| {keys} | `{binding.id}` | {binding.tooltip} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
