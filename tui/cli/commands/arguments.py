"""The arguments of every sub-command, added to its sub-parser.

Light on purpose: building the parser (``--version``, ``--help``, every command) imports
this module and :mod:`tui.cli.options`, and no command's implementation.
"""

from __future__ import annotations

import argparse

from tui.cli.options import add_bandwidth_flag, add_session_arg, age, setting

__all__ = [
    "SERVICE_ACTIONS",
    "complete_arguments",
    "pause_arguments",
    "remote_arguments",
    "resume_arguments",
    "retry_arguments",
    "sandbox_arguments",
    "service_arguments",
    "upload_arguments",
]

SERVICE_ACTIONS = ("start", "stop", "restart", "status", "install", "run")


def _no_complete_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-complete", action="store_true", help="stop once every part is sent")


def upload_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--account", required=True, metavar="NAME")
    p.add_argument(
        "--part-size",
        type=setting("part_size", "--part-size"),
        metavar="SIZE",
        help="e.g. 8MiB, 100MB, 5242880",
    )
    p.add_argument(
        "--parts-in-flight",
        type=setting("parts_in_flight", "--parts-in-flight"),
        metavar="N",
        help="parts sent at once, across every file",
    )
    _no_complete_flag(p)
    add_bandwidth_flag(p)
    p.add_argument(
        "--detach",
        action="store_true",
        help="hand the files to the service and return at once, printing the session ids",
    )


def resume_arguments(p: argparse.ArgumentParser) -> None:
    add_session_arg(p)
    _no_complete_flag(p)
    add_bandwidth_flag(p)


def retry_arguments(p: argparse.ArgumentParser) -> None:
    add_session_arg(p)
    add_bandwidth_flag(p)
    p.add_argument(
        "parts",
        nargs="*",
        type=setting("part", "PART"),
        metavar="PART",
        help="part numbers (default: every failed part)",
    )


def pause_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "sessions", nargs="+", metavar="SESSION", help="session ids or unique prefixes of them"
    )


def complete_arguments(p: argparse.ArgumentParser) -> None:
    add_session_arg(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="send complete again where the provider allows it once and its outcome is unknown",
    )


def remote_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--account", required=True, metavar="NAME")
    p.add_argument("--older-than", type=age, metavar="AGE", help="e.g. 2h, 7d")
    p.add_argument("--prefix", default="", metavar="P", help="key prefix below the account's")
    p.add_argument("--abort", action="store_true", help="abort what is listed (asks on a TTY)")
    p.add_argument("--yes", action="store_true", help="do not ask before aborting")


def auth_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("account", metavar="ACCOUNT")
    p.add_argument(
        "--forget", action="store_true", help="remove the account's stored tokens instead"
    )


def sandbox_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--faults",
        metavar="SPEC",
        help="faults to inject: name=value,... (e.g. part_500=0.1,box.commit_202=2) or a "
        ".toml file",
    )
    p.add_argument(
        "--write-config",
        metavar="PATH",
        help="where to write the config (default: STATE_DIR/sandbox/config.toml)",
    )


def service_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action", choices=SERVICE_ACTIONS, metavar="ACTION", help=" | ".join(SERVICE_ACTIONS)
    )
    p.add_argument(
        "--secrets-stdin", action="store_true", help=argparse.SUPPRESS
    )  # what spawn passes to `run`
