"""Themes as TOML data files, turned into Textual ``Theme`` objects.

Shipped themes are the package data of ``tui.themes`` (the repo's top-level ``themes/``),
read through importlib.resources so a wheel install finds them too. A user's own go in
``~/.config/partdeck/themes`` (the platform's config directory) and override shipped ones
of the same name. Every theme, also Textual's built-ins, gets the partdeck state colours
(``$part-failed`` and so on) from ``state_variable_defaults``; a theme file may set any of
them in its ``[variables]`` table.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import platformdirs
import tomlkit
from textual.color import Color, ColorParseError
from textual.css.constants import VALID_STYLE_FLAGS
from textual.design import (
    DEFAULT_DARK_BACKGROUND,
    DEFAULT_LIGHT_BACKGROUND,
    ColorSystem,
)
from textual.theme import Theme
from tomlkit.exceptions import ParseError, TOMLKitError

__all__ = [
    "STATE_VARIABLES",
    "ThemeError",
    "ThemeLoad",
    "load_themes",
    "parse_theme",
    "shipped_themes_dir",
    "state_variable_defaults",
    "user_themes_dir",
]

STATE_VARIABLES: tuple[str, ...] = (
    "part-pending",
    "part-active",
    "part-verified",
    "part-failed",
    "part-expired",
    "part-unverifiable",
    "session-stalled",
    "session-unknown",
    "session-changed",
    "session-done",
)
"""The partdeck colour variables every theme gets (used in CSS as ``$part-failed`` etc.)."""

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_BOOL_KEYS = ("dark", "ansi")
_FRACTION_KEYS = ("luminosity_spread", "text_alpha")
_KNOWN_KEYS = ("name", *_COLOUR_KEYS, *_BOOL_KEYS, *_FRACTION_KEYS, "variables")
_STATE_PREFIXES = ("part-", "session-")

_NAME_RE = re.compile(r"^[a-z0-9-]+$")
_VARIABLE_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_PERCENT_RE = re.compile(r"^(?P<colour>.+?)\s+(?P<percent>\d+(?:\.\d+)?)%$")
_COLOUR_HINT = "use #rrggbb or a colour name"

# Readability targets (WCAG contrast ratio against the background) for derived colours.
_MIN_CONTRAST = 4.5
_MIN_CONTRAST_MUTED = 3.0
# Below this RGB distance two theme colours count as "the same" when choosing part-active.
_SAME_COLOUR_DISTANCE = 60.0


class ThemeError(ValueError):
    """A theme file that cannot be used; the message is one line naming the file and the fix."""


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


def parse_theme(text: str, source: Traversable) -> Theme:
    """Parse and validate one theme file's text; ``source`` names the file in errors.

    Raises ThemeError (one line) on any problem.
    """
    where = str(source)

    def fail(message: str) -> ThemeError:
        return ThemeError(f"{where}: {message}")

    try:
        data: dict[str, Any] = tomlkit.parse(text).unwrap()
    except ParseError as exc:
        reason = re.sub(r"\s*at line \d+ col \d+\s*$", "", str(exc)).rstrip(". ")
        raise fail(
            f"line {exc.line}, column {exc.col + 1}: invalid TOML ({reason}); fix the syntax there"
        ) from None
    except TOMLKitError as exc:
        raise fail(f"invalid TOML ({exc}); fix the syntax") from None

    for key in data:
        if key not in _KNOWN_KEYS:
            raise fail(f"unknown key {key!r}{_suggest(key, _KNOWN_KEYS)}")

    name = data.get("name")
    if name is None:
        raise fail('name is missing; add a line such as name = "my-theme"')
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise fail(f"name {_show(name)} is not a theme name; use lower-case letters, digits and -")
    if "primary" not in data:
        raise fail('primary is missing; add a line such as primary = "#4a90d9"')

    colours: dict[str, str] = {}
    for key in _COLOUR_KEYS:
        if key in data:
            value = data[key]
            if not isinstance(value, str) or not _is_colour(value):
                raise fail(f"{key} {_show(value)} is not a colour; {_colour_hint(value)}")
            colours[key] = value

    flags: dict[str, bool] = {}
    for key in _BOOL_KEYS:
        if key in data:
            value = data[key]
            if not isinstance(value, bool):
                raise fail(
                    f"{key} {_show(value)} is not true or false; write {key} = true or false"
                )
            flags[key] = value

    fractions: dict[str, float] = {}
    for key in _FRACTION_KEYS:
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(f"{key} {_show(value)} is not a number; use a number from 0 to 1")
            if not 0 <= value <= 1:
                raise fail(f"{key} {_show(value)} is out of range; use a number from 0 to 1")
            fractions[key] = float(value)

    variables = _parse_variables(data.get("variables", {}), fail)
    if flags.get("ansi", False):
        # Textual's ANSI colour system leaves these out, yet its Screen CSS uses them.
        dark = flags.get("dark", True)
        variables.setdefault("ansi-background", "ansi_black" if dark else "ansi_white")
        variables.setdefault("ansi-foreground", "ansi_white" if dark else "ansi_black")

    theme = Theme(
        name=name,
        primary=colours["primary"],
        secondary=colours.get("secondary"),
        warning=colours.get("warning"),
        error=colours.get("error"),
        success=colours.get("success"),
        accent=colours.get("accent"),
        foreground=colours.get("foreground"),
        background=colours.get("background"),
        surface=colours.get("surface"),
        panel=colours.get("panel"),
        boost=colours.get("boost"),
        dark=flags.get("dark", True),
        luminosity_spread=fractions.get("luminosity_spread", 0.15),
        text_alpha=fractions.get("text_alpha", 0.95),
        variables=variables,
        ansi=flags.get("ansi", False),
    )
    try:
        theme.to_color_system().generate()
        state_variable_defaults(theme)
    except Exception as exc:  # Textual's colour maths on odd input; never a traceback.
        raise fail(f"Textual cannot build colours from it ({exc}); check its colours") from None
    return theme


def state_variable_defaults(theme: Theme) -> dict[str, str]:
    """Default values of STATE_VARIABLES derived from a theme's colour system.

    error -> part-failed; warning -> part-expired, session-stalled; success -> part-verified,
    session-done; accent -> part-active and secondary -> session-unknown (primary where
    those look like a status colour); muted foreground -> part-pending; success toward
    muted -> part-unverifiable; warning toward error -> session-changed. Values are hex
    strings (``ansi_*`` names for ANSI colours), raised to a readable contrast against the
    background. For App.get_theme_variable_defaults: a theme's ``[variables]`` override them.
    """
    system = theme.to_color_system()
    primary = system.primary
    secondary = system.secondary or primary
    warning = system.warning or primary
    error = system.error or secondary
    success = system.success or secondary
    accent = system.accent

    background = system.background or Color.parse(
        DEFAULT_DARK_BACKGROUND if theme.dark else DEFAULT_LIGHT_BACKGROUND
    )
    foreground = system.foreground or background.inverse

    active = _distinct((accent, primary), (warning, error, success))
    unknown = _distinct((secondary, primary), (warning, error, success))

    if theme.ansi or background.ansi is not None:
        # The terminal picks the real colours: no blending, no contrast maths.
        pending = Color.parse("ansi_bright_black")
        unverifiable = _unused(
            (_ansi_variant(success), "ansi_cyan", "ansi_bright_cyan", "ansi_white"),
            (pending, active, success, error, warning),
        )
        changed = _unused(
            (_ansi_variant(error), "ansi_magenta", "ansi_bright_magenta", "ansi_bright_yellow"),
            (warning, unknown, success),
        )
        return {
            "part-pending": pending.hex,
            "part-active": active.hex,
            "part-verified": success.hex,
            "part-failed": error.hex,
            "part-expired": warning.hex,
            "part-unverifiable": unverifiable.hex,
            "session-stalled": warning.hex,
            "session-unknown": unknown.hex,
            "session-changed": changed.hex,
            "session-done": success.hex,
        }

    background = _solid(background, Color.parse(DEFAULT_DARK_BACKGROUND))
    foreground = _solid(foreground, background)

    def readable(colour: Color, minimum: float = _MIN_CONTRAST) -> str:
        return _readable(_solid(colour, background), background, minimum).hex

    muted = Color.parse(readable(foreground.blend(background, 0.45), _MIN_CONTRAST_MUTED))
    return {
        "part-pending": muted.hex,
        "part-active": readable(active),
        "part-verified": readable(success),
        "part-failed": readable(error),
        "part-expired": readable(warning),
        "part-unverifiable": readable(_mix(success, muted, 0.5)),
        "session-stalled": readable(warning),
        "session-unknown": readable(unknown),
        "session-changed": readable(_mix(warning, error, 0.5)),
        "session-done": readable(success),
    }


def _parse_variables(value: object, fail: Callable[[str], ThemeError]) -> dict[str, str]:
    """Check the ``[variables]`` table: names, string values, colours where a colour is due."""
    if not isinstance(value, dict):
        raise fail(f"variables {_show(value)} is not a table; write it as a [variables] section")
    variables: dict[str, str] = {}
    for key, item in value.items():
        label = f"variables.{key}"
        if not _VARIABLE_RE.match(key):
            raise fail(f"{label} is not a variable name; use lower-case letters, digits and -")
        if key.startswith(_STATE_PREFIXES) and key not in STATE_VARIABLES:
            hint = _suggest(key, STATE_VARIABLES)
            raise fail(f"{label} is not a partdeck state colour{hint}")
        if not isinstance(item, str):
            raise fail(f'{label} {_show(item)} is not a string; quote it, e.g. "#4a90d9"')
        colour_variables, style_variables = _textual_variables()
        if (key in STATE_VARIABLES or key in colour_variables) and not _is_css_colour(item):
            raise fail(f"{label} {_show(item)} is not a colour; {_colour_hint(item)}")
        if key in style_variables and not _is_text_style(item):
            raise fail(
                f"{label} {_show(item)} is not a text style; use words such as bold, "
                "underline, reverse or none"
            )
        variables[key] = item
    return variables


@cache
def _textual_variables() -> tuple[frozenset[str], frozenset[str]]:
    """Textual's own variables whose values are colours, and those that are text styles."""
    defaults: dict[str, str] = {}
    for system in (ColorSystem("#0178D4", dark=True), ColorSystem("#0178D4", ansi=True)):
        defaults.update(system.generate())
    colours = frozenset(name for name, value in defaults.items() if _is_css_colour(value))
    styles = frozenset(
        name for name, value in defaults.items() if name not in colours and _is_text_style(value)
    )
    return colours, styles


def _is_text_style(text: str) -> bool:
    words = text.split()
    return bool(words) and all(word in VALID_STYLE_FLAGS for word in words)


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


def _show(value: object) -> str:
    """A value as written in TOML, shortened for a one-line message."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, dict):
        text = "(a table)"
    elif isinstance(value, list):
        text = "(a list)"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def _suggest(key: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, choices, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known keys are {', '.join(choices)}"


def _is_colour(text: str) -> bool:
    try:
        Color.parse(text)
    except (ColorParseError, ValueError):
        return False
    return True


def _is_css_colour(text: str) -> bool:
    """A colour as Textual CSS takes it: ``red``, ``#rrggbb`` or ``auto``, optionally ``N%``."""
    text = text.strip()
    match = _PERCENT_RE.match(text)
    if match is not None:
        text = match.group("colour")
    return text == "auto" or _is_colour(text)


def _colour_hint(value: object) -> str:
    if isinstance(value, str):
        try:
            Color.parse(value)
        except ColorParseError as exc:
            if exc.suggested_color:
                return f"did you mean {exc.suggested_color!r}? ({_COLOUR_HINT})"
        except ValueError:
            pass
    return _COLOUR_HINT


def _solid(colour: Color, background: Color) -> Color:
    """The colour as seen over the background (alpha flattened), ANSI colours unchanged."""
    if colour.ansi is not None or colour.a >= 1:
        return colour
    r, g, b, a, _, _ = colour
    return background.blend(Color(r, g, b), a, alpha=1.0)


def _mix(first: Color, second: Color, factor: float) -> Color:
    """Blend two colours; an ANSI colour cannot be blended, so the first one wins."""
    if first.ansi is not None or second.ansi is not None:
        return first
    return first.blend(second, factor, alpha=1.0)


def _ansi_variant(colour: Color) -> Color:
    """The bright (or normal) twin of an ANSI colour; other colours unchanged."""
    if colour.ansi is None or colour.ansi < 0:
        return colour
    index = colour.ansi + 8 if colour.ansi < 8 else colour.ansi - 8
    return Color.parse(f"ansi_{_ANSI_NAMES[index]}")


def _unused(candidates: Sequence[Color | str], used: Sequence[Color]) -> Color:
    """The first candidate that is none of the colours already used (else the first one)."""
    parsed = [Color.parse(c) for c in candidates]
    taken = {c.hex for c in used}
    return next((c for c in parsed if c.hex not in taken), parsed[0])


_ANSI_NAMES = (
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "white",
    "bright_black",
    "bright_red",
    "bright_green",
    "bright_yellow",
    "bright_blue",
    "bright_magenta",
    "bright_cyan",
    "bright_white",
)


def _distinct(candidates: Sequence[Color | None], others: Sequence[Color]) -> Color:
    """The first candidate that does not look like any of the others (else the last one)."""
    present = [c for c in candidates if c is not None]
    for candidate in present:
        if all(not _same(candidate, other) for other in others):
            return candidate
    return present[-1]


def _same(first: Color, second: Color) -> bool:
    if first.ansi is not None or second.ansi is not None:
        return first.ansi == second.ansi
    return _distance(first, second) < _SAME_COLOUR_DISTANCE


def _distance(first: Color, second: Color) -> float:
    return float(sum((a - b) ** 2 for a, b in zip(first.rgb, second.rgb, strict=True)) ** 0.5)


def _luminance(colour: Color) -> float:
    """WCAG relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else float(((c + 0.055) / 1.055) ** 2.4)

    r, g, b = colour.rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(first: Color, second: Color) -> float:
    """WCAG contrast ratio, 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _readable(colour: Color, background: Color, minimum: float) -> Color:
    """The colour, moved toward white (dark background) or black until it reads on it."""
    if colour.ansi is not None or _contrast(colour, background) >= minimum:
        return colour
    target = Color(255, 255, 255) if _luminance(background) < 0.18 else Color(0, 0, 0)
    for step in range(1, 11):
        candidate = colour.blend(target, step / 10, alpha=1.0)
        if _contrast(candidate, background) >= minimum:
            return candidate
    return target
