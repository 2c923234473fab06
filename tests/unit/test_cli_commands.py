"""The command table is the parser and the dispatcher: a new command is one more entry."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

from tui.cli import build_parser, main
from tui.cli.commands import BY_NAME, COMMANDS, Command
from tui.cli.context import Context


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def test_the_parser_offers_every_command_of_the_table_in_its_order() -> None:
    assert _choices(build_parser()) == [c.name for c in COMMANDS]
    assert list(BY_NAME) == [c.name for c in COMMANDS]


def test_a_command_family_added_to_the_table_parses_and_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def arguments(p: argparse.ArgumentParser) -> None:
        actions = p.add_subparsers(dest="action", required=True)
        for name in ("start", "stop"):
            actions.add_parser(name)

    async def run(ctx: Context) -> int:
        print(f"fleet {ctx.args.action} json={ctx.args.json}")
        return 0

    family = Command("fleet", "a family of sub-commands", run, arguments=arguments)
    # tui.cli.main the module (the package's ``main`` attribute is the function)
    cli_main = importlib.import_module("tui.cli.main")
    monkeypatch.setattr(cli_main, "COMMANDS", (*COMMANDS, family))
    monkeypatch.setattr(cli_main, "BY_NAME", {**BY_NAME, "fleet": family})

    assert main(["--state-dir", str(tmp_path), "fleet", "--json", "stop"]) == 0
    assert capsys.readouterr().out == "fleet stop json=True\n"
    assert main(["--state-dir", str(tmp_path), "fleet", "pause"]) == 2
    assert "see partdeck fleet --help" in capsys.readouterr().err
