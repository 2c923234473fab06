"""The ``partdeck`` command line (the console script is ``tui.cli:main``)."""

from tui.cli.main import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    _parse,
    build_parser,
    main,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "_parse",
    "build_parser",
    "main",
]
