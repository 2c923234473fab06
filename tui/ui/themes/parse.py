"""One theme file's text, parsed and validated into a Textual ``Theme``.

Every problem is one ThemeError line that names the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib.resources.abc import Traversable
from typing import Any

import tomlkit
from textual.color import Color, ColorParseError
from textual.css.constants import VALID_STYLE_FLAGS
from textual.design import ColorSystem
from textual.theme import Theme
from tomlkit.exceptions import ParseError, TOMLKitError

from tui.ui.themes.derive import STATE_VARIABLES, state_variable_defaults

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


class ThemeError(ValueError):
    """A theme file that cannot be used; the message is one line naming the file and the fix."""


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
