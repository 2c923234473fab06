"""Tests for tui.ui.themes: shipped theme files, validation messages and state colours."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.theme import Theme
from textual.widgets import Static

from tui.ui.themes import (
    STATE_VARIABLES,
    ThemeError,
    ThemeLoad,
    load_themes,
    parse_theme,
    shipped_themes_dir,
    state_variable_defaults,
    user_themes_dir,
)

SHIPPED = ("partdeck-dark", "partdeck-light", "partdeck-mono")
GOOD = 'name = "good"\nprimary = "#4a90d9"\n'


def _contrast(first: Color, second: Color) -> float:
    """WCAG contrast ratio."""

    def luminance(colour: Color) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.04045 else float(((c + 0.055) / 1.055) ** 2.4)

        r, g, b = colour.rgb
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _shipped() -> dict[str, Theme]:
    load = load_themes([shipped_themes_dir()])
    assert load.errors == []
    return {theme.name: theme for theme in load.themes}


class StateApp(App[None]):
    """An app whose CSS uses the state colours, as the real one does."""

    CSS = """
    #failed { color: $part-failed; background: $part-pending 10%; }
    #done { color: $session-done; }
    """

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return state_variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield Static("failed", id="failed")
        yield Static("done", id="done")


# -- shipped themes -------------------------------------------------------------------------


def test_shipped_dir_is_the_repo_themes_folder() -> None:
    assert shipped_themes_dir() == Path(__file__).resolve().parents[2] / "themes"
    assert user_themes_dir().parts[-2:] == ("partdeck", "themes")


def test_shipped_themes_load_with_no_errors() -> None:
    load = load_themes([shipped_themes_dir()])
    assert load.errors == []
    assert [theme.name for theme in load.themes] == list(SHIPPED)


def test_shipped_themes_are_dark_light_and_ansi() -> None:
    themes = _shipped()
    assert themes["partdeck-dark"].dark is True
    assert themes["partdeck-dark"].ansi is False
    assert themes["partdeck-light"].dark is False
    assert themes["partdeck-light"].ansi is False
    assert themes["partdeck-mono"].ansi is True
    mono = themes["partdeck-mono"]
    colours = [mono.primary, mono.secondary, mono.warning, mono.error, mono.success]
    colours += [mono.accent, mono.foreground, mono.background, *mono.variables.values()]
    for value in colours:
        assert value is not None
        if not value.endswith(("-style", "reverse", "bold", "underline")):
            assert Color.parse(value).ansi is not None, value


@pytest.mark.parametrize("name", ["partdeck-dark", "partdeck-light"])
def test_shipped_state_colours_read_well(name: str) -> None:
    theme = _shipped()[name]
    assert set(STATE_VARIABLES) <= set(theme.variables)
    assert theme.background is not None
    background = Color.parse(theme.background)
    for variable in STATE_VARIABLES:
        assert _contrast(Color.parse(theme.variables[variable]), background) >= 4.5, variable


@pytest.mark.parametrize("name", SHIPPED)
async def test_shipped_theme_works_in_a_real_app(name: str) -> None:
    theme = _shipped()[name]
    app = StateApp()
    async with app.run_test() as pilot:
        app.register_theme(theme)
        app.theme = name
        await pilot.pause()
        assert app.current_theme.name == name
        variables = app.get_css_variables()
        for variable in STATE_VARIABLES:
            assert variable in variables
            assert variables[variable] == theme.variables[variable]
        failed = app.query_one("#failed", Static)
        assert failed.styles.color == Color.parse(theme.variables["part-failed"])


async def test_every_builtin_theme_gets_state_variables_in_a_real_app() -> None:
    app = StateApp()
    async with app.run_test() as pilot:
        for name in sorted(app.available_themes):
            app.theme = name
            await pilot.pause()
            variables = app.get_css_variables()
            assert set(STATE_VARIABLES) <= set(variables), name
            done = app.query_one("#done", Static)
            assert done.styles.color == Color.parse(variables["session-done"]), name


def test_state_variable_defaults_for_every_builtin_theme() -> None:
    for name, theme in App().available_themes.items():
        defaults = state_variable_defaults(theme)
        assert tuple(defaults) == STATE_VARIABLES, name
        colours = {key: Color.parse(value) for key, value in defaults.items()}
        if theme.ansi:
            assert all(colour.ansi is not None for colour in colours.values()), name
            continue
        background = Color.parse(theme.to_color_system().generate()["background"])
        for key, colour in colours.items():
            assert colour.a == 1, (name, key)
            minimum = 3.0 if key == "part-pending" else 4.5
            assert _contrast(colour, background) >= minimum - 0.01, (name, key, defaults[key])


def test_state_variable_defaults_follow_the_colour_system() -> None:
    theme = Theme(
        name="plain",
        primary="#3366cc",
        secondary="#9966cc",
        accent="#33aaaa",
        warning="#ddaa33",
        error="#ee5555",
        success="#55bb55",
        foreground="#dddddd",
        background="#101010",
    )
    defaults = state_variable_defaults(theme)
    assert defaults["part-failed"] == "#EE5555"
    assert defaults["part-expired"] == defaults["session-stalled"] == "#DDAA33"
    assert defaults["part-verified"] == defaults["session-done"] == "#55BB55"
    assert defaults["part-active"] == "#33AAAA"
    assert defaults["session-unknown"] == "#9966CC"
    assert len(set(defaults.values())) == 8


def test_part_active_avoids_an_accent_that_looks_like_a_status() -> None:
    theme = Theme(name="t", primary="#0178D4", accent="#ffa62b", warning="#ffa62b")
    active = Color.parse(state_variable_defaults(theme)["part-active"])
    assert active.b > active.g > active.r  # primary's blue (made readable), not the orange


def test_ansi_theme_gets_the_variables_textual_screen_css_needs() -> None:
    theme = parse_theme(GOOD + "ansi = true\ndark = false\n", Path("a.toml"))
    assert theme.variables["ansi-background"] == "ansi_white"
    assert theme.variables["ansi-foreground"] == "ansi_black"


# -- loading and errors ---------------------------------------------------------------------


BROKEN: dict[str, tuple[bytes | None, str]] = {
    "bad-toml": (b'name = "x"\nprimary = \n', "line 2, column"),
    "no-name": (b'primary = "#4a90d9"\n', "name is missing"),
    "no-primary": (b'name = "x"\n', "primary is missing"),
    "bad-colour": (
        b'name = "x"\nprimary = "#12"\n',
        'primary "#12" is not a colour; use #rrggbb or a colour name',
    ),
    "unknown-key": (
        b'name = "x"\nprimary = "#4a90d9"\nsecundary = "#ffffff"\n',
        "unknown key 'secundary'; did you mean 'secondary'?",
    ),
    "dark-type": (
        b'name = "x"\nprimary = "#4a90d9"\ndark = "yes"\n',
        'dark "yes" is not true or false',
    ),
    "unreadable": (None, "cannot be read"),
    "not-utf8": (b'name = "x\xff"\nprimary = "#4a90d9"\n', "is not UTF-8 text"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_gives_one_error_and_good_themes_still_load(tmp_path: Path, case: str) -> None:
    content, expected = BROKEN[case]
    broken = tmp_path / f"{case}.toml"
    if content is None:
        broken.symlink_to(tmp_path / "nowhere.toml")
    else:
        broken.write_bytes(content)
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "zz-good.toml").write_text(GOOD.replace('"good"', '"zz-good"'), encoding="utf-8")

    load = load_themes([tmp_path])

    assert [theme.name for theme in load.themes] == ["good", "zz-good"]
    assert len(load.errors) == 1
    (error,) = load.errors
    assert error.startswith(f"{broken}: ")
    assert expected in error
    assert "\n" not in error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "Bad Name"\nprimary = "red"\n', "is not a theme name"),
        ('name = ""\nprimary = "red"\n', "is not a theme name"),
        ("name = 3\nprimary = 'red'\n", "name 3 is not a theme name"),
        ('name = "x"\nprimary = 7\n', "primary 7 is not a colour"),
        ('name = "x"\nprimary = "rde"\n', "did you mean 'red'?"),
        ('name = "x"\nprimary = "red"\nansi = 1\n', "ansi 1 is not true or false"),
        ('name = "x"\nprimary = "red"\ntext_alpha = 1.5\n', "text_alpha 1.5 is out of range"),
        ('name = "x"\nprimary = "red"\nluminosity_spread = "a"\n', "is not a number"),
        ('name = "x"\nprimary = "red"\nvariables = "x"\n', 'variables "x" is not a table'),
        (
            'name = "x"\nprimary = "red"\n[variables]\npart-faild = "red"\n',
            "variables.part-faild is not a partdeck state colour; did you mean 'part-failed'?",
        ),
        (
            'name = "x"\nprimary = "red"\n[variables]\npart-failed = "#zz"\n',
            'variables.part-failed "#zz" is not a colour',
        ),
        (
            'name = "x"\nprimary = "red"\n[variables]\nfooter-key-foreground = "nope"\n',
            "variables.footer-key-foreground",
        ),
        (
            'name = "x"\nprimary = "red"\n[variables]\nblock-cursor-text-style = "shiny"\n',
            "is not a text style",
        ),
        ('name = "x"\nprimary = "red"\n[variables]\nborder = 3\n', "is not a string"),
    ],
)
def test_parse_theme_errors_are_one_line(text: str, expected: str) -> None:
    with pytest.raises(ThemeError) as caught:
        parse_theme(text, Path("themes/foo.toml"))
    message = str(caught.value)
    assert message.startswith("themes/foo.toml: ")
    assert expected in message
    assert "\n" not in message


def test_parse_theme_accepts_every_key() -> None:
    text = """
    name = "full-1"
    dark = false
    ansi = false
    primary = "#4a90d9"
    secondary = "rgb(100, 50, 200)"
    warning = "orange"
    error = "hsl(0, 70%, 45%)"
    success = "#2a2"
    accent = "teal"
    foreground = "#111111"
    background = "#fefefe"
    surface = "#ffffff"
    panel = "#eeeeee"
    boost = "#00000010"
    luminosity_spread = 0.2
    text_alpha = 1

    [variables]
    part-failed = "red 80%"
    text = "auto 87%"
    block-cursor-text-style = "bold reverse"
    some-future-variable = "anything"
    """
    theme = parse_theme(text, Path("full.toml"))
    assert theme.name == "full-1"
    assert theme.dark is False
    assert theme.text_alpha == 1.0
    assert theme.variables["part-failed"] == "red 80%"
    assert theme.variables["some-future-variable"] == "anything"


def test_parse_theme_defaults_match_textual() -> None:
    theme = parse_theme(GOOD, Path("good.toml"))
    assert theme == Theme(name="good", primary="#4a90d9")


def test_missing_directories_are_skipped(tmp_path: Path) -> None:
    assert load_themes([tmp_path / "nope", tmp_path / "also-nope"]) == ThemeLoad([], [])


def test_user_theme_overrides_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'name = "partdeck-dark"\nprimary = "#ff8800"\n', encoding="utf-8"
    )
    load = load_themes([shipped_themes_dir(), tmp_path])
    assert load.errors == []
    themes = {theme.name: theme for theme in load.themes}
    assert [theme.name for theme in load.themes] == list(SHIPPED)
    assert themes["partdeck-dark"].primary == "#ff8800"
    assert themes["partdeck-light"] == _shipped()["partdeck-light"]


def test_same_name_twice_in_one_directory_keeps_the_first(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD.replace("#4a90d9", "#000000"), encoding="utf-8")
    load = load_themes([tmp_path])
    assert [theme.primary for theme in load.themes] == ["#4a90d9"]
    assert len(load.errors) == 1
    assert load.errors[0].startswith(f"{tmp_path / 'b.toml'}: name 'good' is already used")


async def test_minimal_ansi_theme_file_works_in_a_real_app() -> None:
    theme = parse_theme('name = "my-ansi"\nprimary = "ansi_blue"\nansi = true\n', Path("a.toml"))
    app = StateApp()
    async with app.run_test() as pilot:
        app.register_theme(theme)
        app.theme = "my-ansi"
        await pilot.pause()
        assert app.get_css_variables()["part-failed"] == "ansi_blue"
