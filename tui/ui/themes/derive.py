"""The partdeck state colours (``$part-failed`` and so on) derived from a theme's colours.

Every theme, also Textual's built-ins, gets them from ``state_variable_defaults``: status
colours where the theme has them, raised to a readable contrast against the background,
and ANSI names left to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.color import Color
from textual.design import DEFAULT_DARK_BACKGROUND, DEFAULT_LIGHT_BACKGROUND
from textual.theme import Theme

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

# Readability targets (WCAG contrast ratio against the background) for derived colours.
_MIN_CONTRAST = 4.5
_MIN_CONTRAST_MUTED = 3.0
# Below this RGB distance two theme colours count as "the same" when choosing part-active.
_SAME_COLOUR_DISTANCE = 60.0


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
