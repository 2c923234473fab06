"""A reader that leaves (``| head -1``), a closed stderr or a full disk under stdout never
stops an upload and is never an internal error: real ``partdeck`` processes, real pipes,
against moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_file
from tui.core.journal import Journal

MiB = 1024 * 1024
TIMEOUT = 120


@contextmanager
def _reader_gone() -> Iterator[int]:
    """The write end of a pipe whose reader has already closed it: the child's very first
    write meets EPIPE, whatever the timing."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        yield write_end
    finally:
        os.close(write_end)


def _argv(config: Path, state_dir: Path, *args: str | Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tui",
        *map(str, args),
        "--config",
        str(config),
        "--state-dir",
        str(state_dir),
    ]


def _sessions(state_dir: Path) -> list[Any]:
    journal = Journal.open(state_dir)
    try:
        return journal.sessions()
    finally:
        journal.close()


def _landed(s3: Any, bucket: str, name: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=f"up/{name}")["Body"].read())


@pytest.mark.parametrize("closed", ["stdout", "stdout-and-stderr"])
def test_upload_goes_on_when_its_reader_is_gone(
    config_file: Path, state_dir: Path, tmp_path: Path, s3: Any, bucket: str, closed: str
) -> None:
    path = make_file(tmp_path / "piped.bin", 11 * MiB + 3)
    argv = _argv(config_file, state_dir, "upload", path, "--account", "moto", "--json")
    argv += ["--part-size", "5MiB"]
    with _reader_gone() as out, _reader_gone() as err:
        stderr: int = err if closed == "stdout-and-stderr" else subprocess.PIPE
        child = subprocess.run(argv, stdout=out, stderr=stderr, timeout=TIMEOUT, check=False)
    assert child.returncode == 0, child.stderr
    if closed == "stdout":
        assert child.stderr == b"", child.stderr
    [session] = _sessions(state_dir)
    assert session.state == "completed"
    assert _landed(s3, bucket, "piped.bin") == path.read_bytes()


def test_upload_into_head_1(
    config_file: Path, state_dir: Path, tmp_path: Path, s3: Any, bucket: str
) -> None:
    """The shell's own pipeline, as the issue has it: the first JSON line reaches head,
    then head leaves; the upload carries on to ``completed`` and partdeck exits 0."""
    path = make_file(tmp_path / "head.bin", 16 * MiB)
    argv = _argv(config_file, state_dir, "upload", path, "--account", "moto", "--json")
    argv += ["--part-size", "5MiB"]
    pipeline = " ".join(map(_quote, argv)) + " | head -1; echo ${PIPESTATUS[0]} >&2"
    done = subprocess.run(
        ["bash", "-c", pipeline], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    first = json.loads(done.stdout)
    assert first["event"] == "session"
    assert done.stderr == "0\n", done.stderr
    [session] = _sessions(state_dir)
    assert session.state == "completed"
    assert _landed(s3, bucket, "head.bin") == path.read_bytes()


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


@pytest.fixture
def recorded(config_file: Path, state_dir: Path, tmp_path: Path) -> str:
    """A completed session in the journal; its id."""
    path = make_file(tmp_path / "listed.bin", 2 * MiB)
    argv = _argv(config_file, state_dir, "upload", path, "--account", "moto", "--json")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    return str(json.loads(done.stdout.splitlines()[-1])["session"])


@pytest.mark.parametrize(
    "command",
    [["sessions"], ["sessions", "--json"], ["show"], ["show", "--json"], ["inspect"]],
    ids=["sessions", "sessions-json", "show", "show-json", "inspect"],
)
def test_a_listing_whose_reader_left_ends_quietly(
    config_file: Path, state_dir: Path, recorded: str, command: list[str]
) -> None:
    """Exit 0 and nothing on stderr: the reader took what it wanted (git and cat stop
    quietly too; 0 rather than 141 keeps ``set -o pipefail`` scripts working)."""
    args = [command[0], *([recorded[:8]] if command[0] != "sessions" else []), *command[1:]]
    with _reader_gone() as out:
        child = subprocess.run(
            _argv(config_file, state_dir, *args),
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    assert (child.returncode, child.stderr) == (0, "")


def test_a_listing_with_both_descriptors_closed(
    config_file: Path, state_dir: Path, recorded: str
) -> None:
    """Started with stdout and stderr closed (``>&- 2>&-``): no crash, no stray output."""

    def close_both() -> None:
        os.close(1)
        os.close(2)

    child = subprocess.run(
        _argv(config_file, state_dir, "show", recorded[:8]),
        preexec_fn=close_both,
        timeout=TIMEOUT,
        check=False,
    )
    assert child.returncode == 0


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_listing_that_cannot_be_written_says_so(
    config_file: Path, state_dir: Path, recorded: str
) -> None:
    """A full disk is not a reader that left: one line on stderr, and exit 1."""
    with open("/dev/full", "w") as full:
        child = subprocess.run(
            _argv(config_file, state_dir, "show", recorded[:8]),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    assert child.returncode == 1
    assert child.stderr.count("\n") == 1, child.stderr
    assert child.stderr.startswith("partdeck: the output could not be written (No space left")
    assert "Traceback" not in child.stderr and "internal error" not in child.stderr


def test_an_upload_whose_output_cannot_be_written_still_completes(
    config_file: Path, state_dir: Path, tmp_path: Path, s3: Any, bucket: str
) -> None:
    path = make_file(tmp_path / "full.bin", 6 * MiB)
    argv = _argv(config_file, state_dir, "upload", path, "--account", "moto", "--json")
    with open("/dev/full", "w") as full:
        child = subprocess.run(
            argv, stdout=full, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT, check=False
        )
    assert child.returncode == 0, child.stderr
    assert child.stderr.startswith("partdeck: the output could not be written"), child.stderr
    [session] = _sessions(state_dir)
    assert session.state == "completed"
    assert _landed(s3, bucket, "full.bin") == path.read_bytes()


def test_closed_descriptors_are_not_reused_by_files(tmp_path: Path) -> None:
    """With 1 and 2 closed at start, the next file opened would take number 1; partdeck
    fills them with /dev/null first, so a lock or log file never receives terminal output."""
    report = tmp_path / "fd"
    script = (
        "import os, sys; from tui.streams import fill_closed_descriptors; "
        "fill_closed_descriptors(); "
        "fd = os.open(sys.argv[1] + '.probe', os.O_CREAT | os.O_WRONLY); "
        "open(sys.argv[1], 'w').write(str(fd))"
    )

    def close_both() -> None:
        os.close(1)
        os.close(2)

    subprocess.run(
        [sys.executable, "-c", script, str(report)],
        preexec_fn=close_both,
        timeout=TIMEOUT,
        check=True,
    )
    assert int(report.read_text()) >= 3
