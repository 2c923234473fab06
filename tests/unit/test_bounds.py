"""Tests for tui.core.bounds: every size and count option, on the command line and in the
config, meets one check."""

from __future__ import annotations

import argparse

import pytest

from tui.cli import _parse, build_parser
from tui.config import parse_config
from tui.core.bounds import BOUNDS, check_setting
from tui.core.errors import ConfigError, UsageError
from tui.core.units import GiB, MiB

FLAGS: list[tuple[str, str, str]] = [
    ("upload", "--part-size", "part_size"),
    ("upload", "--parts-in-flight", "parts_in_flight"),
    ("upload", "--bandwidth-limit", "bandwidth_limit"),
    ("resume", "--bandwidth-limit", "bandwidth_limit"),
    ("retry", "--bandwidth-limit", "bandwidth_limit"),
    ("retry", "PART", "part"),
]
"""Every size or count the command line takes: command, option, setting."""
ENGINE_KEYS = ["part_size", "parts_in_flight", "parts_per_session", "retries"]
ENGINE_KEYS += ["bandwidth_limit", "link_speed"]
S3 = '[accounts.a]\nprovider = "s3"\nbucket = "b"\n'


def _too_small(key: str) -> list[str]:
    """Values below the bound (as typed on a command line)."""
    bound = BOUNDS[key]
    return [str(bound.minimum - 1), "-5", "lots", "", " ", "1.5", "٣", "²", "true"]


def _argv(command: str, flag: str, value: str) -> list[str]:
    head = {"upload": ["upload", "f", "--account", "a"], "resume": ["resume", "abc"]}
    base = head.get(command, ["retry", "abc"])
    return [*base, value] if flag == "PART" else [*base, f"{flag}={value}"]


def test_every_typed_option_is_listed() -> None:
    """No size or count reaches the command line without the check: every option with a
    type is one of FLAGS."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    typed = set()
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.type is not None and action.dest != "older_than":
                typed.add((name, action.option_strings[0] if action.option_strings else "PART"))
    assert typed == {(c, f) for c, f, _ in FLAGS}


@pytest.mark.parametrize(("command", "flag", "key"), FLAGS)
def test_a_bad_value_on_the_command_line_is_one_line_naming_the_option(
    command: str, flag: str, key: str
) -> None:
    for value in _too_small(key):
        with pytest.raises(UsageError) as info:
            _parse(_argv(command, flag, value))
        message = str(info.value)
        assert message.startswith(f"{flag} must be "), message
        assert f"(got {value!r})" in message
        assert "; e.g. " in message
        assert "\n" not in message


@pytest.mark.parametrize(("command", "flag", "key"), FLAGS)
def test_a_good_value_on_the_command_line_is_read(command: str, flag: str, key: str) -> None:
    bound = BOUNDS[key]
    args = _parse(_argv(command, flag, bound.example))
    dest = "parts" if flag == "PART" else flag.lstrip("-").replace("-", "_")
    value = getattr(args, dest)
    expected = check_setting(key, bound.example, flag, cli=True)
    assert value == ([expected] if flag == "PART" else expected)


def test_part_size_zero_is_refused_not_ignored() -> None:
    with pytest.raises(UsageError) as info:
        _parse(["upload", "f", "--account", "a", "--part-size", "0"])
    assert str(info.value) == (
        "--part-size must be a size above 0, in bytes or with a unit such as MiB or MB "
        "(got '0'); e.g. --part-size 16MiB"
    )


def test_part_size_above_what_any_provider_takes_is_refused() -> None:
    with pytest.raises(UsageError) as info:
        _parse(["upload", "f", "--account", "a", "--part-size", "6GiB"])
    assert str(info.value) == (
        "--part-size must be at most 5 GiB, the largest part any provider takes (got 6 GiB); "
        "e.g. --part-size 16MiB"
    )


@pytest.mark.parametrize("key", ENGINE_KEYS)
def test_the_config_meets_the_same_check(key: str) -> None:
    bound = BOUNDS[key]
    for value in (bound.minimum - 1, -5, True, 2.5, [1]):
        with pytest.raises(ConfigError) as info:
            parse_config(f"[engine]\n{key} = {_toml(value)}\n")
        message = str(info.value)
        assert message.startswith(f"<config>: engine.{key} must be "), message
        # The same words as the command line's, but for the name and the example.
        cli = _cli_message(key, value)
        assert (
            message.split(" must be ")[1].split(" (got ")[0]
            == cli.split(" must be ")[1].split(" (got ")[0]
        )


def test_the_config_reads_a_good_value() -> None:
    config = parse_config('[engine]\npart_size = "16MiB"\nretries = 0\nbandwidth_limit = 1\n')
    assert config.engine.part_size == 16 * MiB
    assert config.engine.retries == 0
    assert config.engine.bandwidth_limit == 1


def test_the_config_refuses_a_part_size_above_any_provider() -> None:
    with pytest.raises(ConfigError, match=r"engine\.part_size must be at most 5 GiB"):
        parse_config('[engine]\npart_size = "6GiB"\n')
    with pytest.raises(ConfigError, match="min_part_size must be at most 5 GiB"):
        parse_config(S3 + 'min_part_size = "5GiB"\n'.replace("5GiB", f"{5 * GiB + 1}"))


@pytest.mark.parametrize("key", ["bandwidth_limit", "link_speed", "part"])
def test_a_number_too_big_to_store_is_refused(key: str) -> None:
    huge = str(2**63)
    with pytest.raises(ValueError, match="must be at most"):
        check_setting(key, huge, "--x", cli=True)
    with pytest.raises(ValueError, match=r"\(got '9999999999999999999999999999999999999999999"):
        check_setting(key, "9" * 400, "--x", cli=True)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cli_message(key: str, value: object) -> str:
    try:
        check_setting(key, _toml(value), "--x", cli=True)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{value!r} was taken for {key}")
