"""stdout and stderr that a closed pipe or a missing descriptor cannot break.

``partdeck upload ... | head -1`` closes the pipe after one line; the next write raises
BrokenPipeError. Output is only a report on the work: losing it must never stop an
upload or become an internal error. :func:`guarded_streams` puts both streams behind
guards that, at the first failed write, point the descriptor at ``/dev/null`` (Python's
recipe, so the interpreter's last flush does not raise either) and drop whatever is
written after it. ``cat`` and ``git`` behave the same way: a closed reader ends the
output, quietly.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

__all__ = ["GuardedStream", "StreamGuards", "fill_closed_descriptors", "guarded_streams"]


class GuardedStream(io.TextIOBase):
    """A text stream that stops writing, quietly, once its reader has gone."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self.inner = stream
        self.error: OSError | None = None
        """The first failed write (None while every write worked)."""
        if stream is None:  # started with the descriptor closed (2>&-): nothing to write to
            self.error = OSError(errno.EBADF, "the stream was closed when partdeck started")
        elif isinstance(stream, io.TextIOWrapper):
            # A name the terminal's encoding cannot show is written as escapes, not refused.
            stream.reconfigure(errors="backslashreplace")

    @property
    def lost(self) -> bool:
        """True once output is being dropped."""
        return self.error is not None

    @property
    def reader_gone(self) -> bool:
        """True when output is dropped because the reader closed the pipe (or the stream
        was closed from the start): the quiet case."""
        return self.error is not None and self.error.errno in (errno.EPIPE, errno.EBADF)

    def _fail(self, exc: OSError) -> None:
        self.error = exc
        inner, self.inner = self.inner, None
        if inner is None:
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, inner.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # no descriptor of its own (a test's capture): dropping our writes is enough

    def write(self, text: str) -> int:
        """Write ``text``, or drop it once the stream has failed."""
        if self.inner is not None:
            try:
                self.inner.write(text)
            except OSError as exc:
                self._fail(exc)
        return len(text)

    def flush(self) -> None:
        """Flush, or do nothing once the stream has failed."""
        if self.inner is not None:
            try:
                self.inner.flush()
            except OSError as exc:
                self._fail(exc)

    def isatty(self) -> bool:
        """Whether the stream is a terminal (False once it failed)."""
        if self.inner is None:
            return False
        try:
            return self.inner.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        """The descriptor underneath (``/dev/null`` once the stream failed)."""
        if self.inner is None:
            raise io.UnsupportedOperation("the stream was closed")
        return self.inner.fileno()

    def writable(self) -> bool:
        """Always: a failed stream takes writes and drops them."""
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", None) or "utf-8"


@dataclass(frozen=True)
class StreamGuards:
    """The guarded stdout and stderr of one command."""

    out: GuardedStream
    err: GuardedStream

    def write_error(self) -> str | None:
        """One line on why stdout could not be written, unless its reader simply left."""
        error = self.out.error
        if error is None or self.out.reader_gone:
            return None
        return (
            f"the output could not be written ({error.strerror or error}); the command's "
            "work is done, see it with partdeck sessions"
        )


def fill_closed_descriptors() -> None:
    """Open ``/dev/null`` on 0, 1 or 2 where partdeck was started with it closed
    (``>&- 2>&-``), so no file opened later (a lock, the log) takes its number and gets
    what is meant for a terminal."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one
            if opened != fd:
                os.close(opened)


@contextmanager
def guarded_streams() -> Iterator[StreamGuards]:
    """Put ``sys.stdout`` and ``sys.stderr`` behind guards for the block; restore them after."""
    fill_closed_descriptors()
    saved = sys.stdout, sys.stderr
    guards = StreamGuards(GuardedStream(saved[0]), GuardedStream(saved[1]))
    sys.stdout, sys.stderr = guards.out, guards.err
    try:
        yield guards
    finally:
        for guard in (guards.out, guards.err):
            guard.flush()
        sys.stdout, sys.stderr = saved
