"""Bad input ends in one line on stderr, exit 2, and no traceback."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.integration.conftest import CLI, make_file
from tui.cli import main


def _one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("partdeck: ")
    return err


def test_missing_file(cli: CLI, tmp_path: Path) -> None:
    result = cli("upload", tmp_path / "nope.bin", "--account", "moto")
    assert result.code == 2
    assert "nope.bin: no such file; check the path" in _one_line(result.err)


def test_directory(cli: CLI, tmp_path: Path) -> None:
    result = cli("upload", tmp_path, "--account", "moto")
    assert result.code == 2
    assert "is a directory; give the files inside it" in _one_line(result.err)


def test_fifo(cli: CLI, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = cli("upload", fifo, "--account", "moto")
    assert result.code == 2
    assert "is not a regular file" in _one_line(result.err)


def test_one_bad_file_uploads_none(cli: CLI, tmp_path: Path, s3: object, bucket: str) -> None:
    good = make_file(tmp_path / "good.bin", 100)
    result = cli("upload", good, tmp_path / "missing.bin", "--account", "moto")
    assert result.code == 2
    _one_line(result.err)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")  # type: ignore[attr-defined]


def _main_as_nobody(argv: list[str]) -> tuple[int, str]:
    """Run the CLI in a forked child that dropped root: (exit code, stderr).

    The child cannot read root's Python install, so what it imports lazily is imported
    here first.
    """
    import concurrent.futures.thread  # noqa: F401

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, run, report
        code = 99
        try:
            os.close(read)
            sys.stderr = os.fdopen(write, "w")
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.chdir("/")
            code = main(argv)
        finally:
            sys.stderr.flush()
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        err = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


@pytest.mark.skipif(os.geteuid() != 0, reason="root is needed to drop to another user")
def test_unreadable_file(config_file: Path) -> None:
    shared = Path(tempfile.mkdtemp(prefix="partdeck-nobody-"))
    try:
        shared.chmod(0o777)
        config = shared / "config.toml"
        config.write_text(config_file.read_text())
        config.chmod(0o644)
        secret = make_file(shared / "private.bin", 10)
        secret.chmod(0o600)
        code, err = _main_as_nobody(
            ["upload", str(secret), "--account", "moto", "--config", str(config),
             "--state-dir", str(shared / "state")]
        )  # fmt: skip
        assert code == 2, err
        assert "private.bin: permission denied; make it readable by this user" in _one_line(err)
        code, err = _main_as_nobody(["sessions", "--config", str(config_file)])
        assert code == 2, err
        assert "cannot be read (Permission denied)" in _one_line(err)
    finally:
        shutil.rmtree(shared)


def test_unknown_account(cli: CLI, tmp_path: Path) -> None:
    result = cli("upload", make_file(tmp_path / "f.bin", 10), "--account", "nosuch")
    assert result.code == 2
    assert "unknown account 'nosuch'" in _one_line(result.err)
    assert "moto" in result.err


def test_missing_credential_variable(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARTDECK_TEST_SK")
    result = cli("upload", make_file(tmp_path / "f.bin", 10), "--account", "moto")
    assert result.code == 2
    err = _one_line(result.err)
    assert "PARTDECK_TEST_SK" in err and "not set" in err


def test_malformed_toml(cli: CLI, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[engine]\nparts_in_flight = = 3\n")
    result = cli("upload", make_file(tmp_path / "f.bin", 10), "--account", "moto", config=bad)
    assert result.code == 2
    err = _one_line(result.err)
    assert "bad.toml" in err and "line 2" in err


def test_missing_explicit_config(cli: CLI, tmp_path: Path) -> None:
    result = cli("sessions", config=tmp_path / "absent.toml")
    assert result.code == 2
    assert "absent.toml" in _one_line(result.err)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["upload", "x", "--account", "moto", "--part-size", "lots"], "--part-size must be a size"),
        (["upload", "x", "--account", "moto", "--parts-in-flight", "0"], "whole number >= 1"),
        (["upload", "x"], "--account"),
        (["show", "zzzz"], "is not a session id"),
        (["show", "abcdef"], "no session starts with 'abcdef'"),
        (["retry", "abcdef", "-3"], "PART must be a whole number >= 1"),
        (["remote", "--account", "moto", "--older-than", "soon"], "is not a duration"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors(cli: CLI, args: list[str], expected: str) -> None:
    result = cli(*args)
    assert result.code == 2
    assert expected in _one_line(result.err)


def test_retry_unknown_part(cli: CLI, tmp_path: Path) -> None:
    up = cli("upload", make_file(tmp_path / "f.bin", 10), "--account", "moto", "--no-complete",
             "--json")  # fmt: skip
    assert up.code == 0, up.err
    result = cli("retry", up.summary["session"], "9")
    assert result.code == 2
    assert "has parts 1-1; no part 9" in _one_line(result.err)
