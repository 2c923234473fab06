"""Where themes come from: the shipped ``tui.themes`` package, then the user's folder.

Shipped themes are the package data of ``tui.themes`` (the repo's top-level ``themes/``),
read through importlib.resources so a wheel install finds them too. A user's own go in
``~/.config/partdeck/themes`` (the platform's config directory) and override shipped ones
of the same name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import platformdirs
from textual.theme import Theme

from tui.ui.themes.parse import ThemeError, parse_theme


@dataclass(frozen=True)
class ThemeLoad:
    """The themes found in some directories, and one error line per file that failed."""

    themes: list[Theme] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


SHIPPED_THEMES_PACKAGE = "tui.themes"


def shipped_themes_dir() -> Traversable:
    """The themes that come with partdeck: the ``tui.themes`` package's resources."""
    return files(SHIPPED_THEMES_PACKAGE)


def user_themes_dir() -> Path:
    """The user's own themes, e.g. ``~/.config/partdeck/themes`` on Linux."""
    return platformdirs.user_config_path("partdeck", appauthor=False) / "themes"


def load_themes(directories: Sequence[Traversable]) -> ThemeLoad:
    """Every ``*.toml`` in the directories (missing ones skipped), sorted by theme name.

    A theme in a later directory replaces one of the same name from an earlier directory.
    A file that cannot be read or parsed adds one line to ``errors`` and is skipped.
    """
    found: dict[str, Theme] = {}
    errors: list[str] = []
    for directory in directories:
        try:
            if not directory.is_dir():
                continue
            found_files = sorted(
                (f for f in directory.iterdir() if f.name.endswith(".toml")),
                key=lambda f: f.name,
            )
        except OSError as exc:
            errors.append(f"{directory}: cannot list themes ({_os_reason(exc)}); check the folder")
            continue
        here: dict[str, Traversable] = {}
        for path in found_files:
            try:
                theme = parse_theme(_read_text(path), path)
            except ThemeError as exc:
                errors.append(str(exc))
                continue
            if theme.name in here:
                errors.append(
                    f"{path}: name {theme.name!r} is already used by {here[theme.name].name}; "
                    "give each theme its own name"
                )
                continue
            here[theme.name] = path
            found[theme.name] = theme
    return ThemeLoad(themes=[found[name] for name in sorted(found)], errors=errors)


def _read_text(path: Traversable) -> str:
    """A theme file's text; one ThemeError line if it cannot be read as UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ThemeError(
            f"{path}: cannot be read ({_os_reason(exc)}); check the file and its permissions"
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ThemeError(
            f"{path}: is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
