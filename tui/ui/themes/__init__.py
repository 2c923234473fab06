"""Themes as TOML data files, turned into Textual ``Theme`` objects.

Shipped themes are the package data of ``tui.themes`` (the repo's top-level ``themes/``),
read through importlib.resources so a wheel install finds them too. A user's own go in
``~/.config/partdeck/themes`` (the platform's config directory) and override shipped ones
of the same name. Every theme, also Textual's built-ins, gets the partdeck state colours
(``$part-failed`` and so on) from ``state_variable_defaults``; a theme file may set any of
them in its ``[variables]`` table.

Modules: ``parse`` (one theme file's text, validated, to a ``Theme``), ``derive`` (the
state colours from a theme's colours) and ``load`` (where themes are found, and loading
every file in those folders).
"""

from __future__ import annotations

from tui.ui.themes.derive import STATE_VARIABLES, state_variable_defaults
from tui.ui.themes.load import (
    SHIPPED_THEMES_PACKAGE,
    ThemeLoad,
    load_themes,
    shipped_themes_dir,
    user_themes_dir,
)
from tui.ui.themes.parse import ThemeError, parse_theme

__all__ = [
    "SHIPPED_THEMES_PACKAGE",
    "STATE_VARIABLES",
    "ThemeError",
    "ThemeLoad",
    "load_themes",
    "parse_theme",
    "shipped_themes_dir",
    "state_variable_defaults",
    "user_themes_dir",
]
