"""The real ``partdeck`` binary in a real terminal (tmux): one upload from the file
browser to completed, driven by keystrokes and read back from the screen.

No config file, so partdeck starts its in-process sandbox; the test picks sandbox-s3,
marks one file, starts it, waits for ``✓ completed``, checks the bytes on the sandbox
while it still runs, quits with ``q`` and checks the exit status and the journal.

tmux is required, not optional: .ci/run installs it, and without it this test fails
(a UI test that skips itself in CI would test nothing).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest

from tests.support.leaks import Leaks
from tui.config import load_config
from tui.core import checksums
from tui.core.journal import Journal
from tui.core.model import PartState, SessionState
from tui.ui.rows import FILE_WIDTH

MiB = 1024 * 1024
FILE_NAME = "upload-me.bin"
SHOWN_NAME = FILE_NAME if len(FILE_NAME) <= FILE_WIDTH else FILE_NAME[: FILE_WIDTH - 1] + "…"
"""The name as the sessions table's File column shows it (cut to its width)."""
FILE_SIZE = 12 * MiB
"""Two parts at the S3 default of 8 MiB: ``2 × 8 MiB``."""
PARTS = 2
WIDTH, HEIGHT = 100, 30
STEP_SECONDS = 60.0
"""The longest any one step may take before the test fails with the screen it saw."""


def _partdeck_binary() -> str:
    """The ``partdeck`` console script of the venv running the tests (else on PATH)."""
    beside = Path(sys.executable).parent / "partdeck"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("partdeck")
    if found is None:
        pytest.fail(
            f"no partdeck binary beside {sys.executable} or on PATH; "
            "install the project with pip install -e '.[dev]'"
        )
    return found


def _require_tmux() -> str:
    """tmux's path; a clear failure (never a skip) when it is missing."""
    found = shutil.which("tmux")
    if found is None:
        pytest.fail(
            "tmux is not installed, and tests/ui/test_tmux.py drives partdeck in tmux. "
            "Install it (apt-get install tmux, brew install tmux); .ci/run does this in CI."
        )
    return found


@dataclass
class Pane:
    """One tmux server on a private socket, with one 100x30 window running partdeck."""

    tmux: str
    socket: str
    env: dict[str, str]
    last: str = ""
    """The last capture, for failure messages."""

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"tmux {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}\n"
                f"last screen:\n{self.last}"
            )
        return done.stdout

    def capture(self) -> str:
        self.last = self.run("capture-pane", "-p", "-t", "pd")
        return self.last

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "pd", *keys)

    def wait_for(
        self,
        what: str,
        found: Callable[[str], bool],
        *,
        extra: Callable[[], str] = lambda: "",
    ) -> str:
        """Poll the screen until ``found`` holds; fail with the last screen after a while."""
        deadline = time.monotonic() + STEP_SECONDS
        while True:
            screen = self.capture()
            if found(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {STEP_SECONDS:.0f}s for {what}; last screen:\n{screen}\n{extra()}"
                )
            time.sleep(0.2)

    def wait_for_text(self, *texts: str, extra: Callable[[], str] = lambda: "") -> str:
        return self.wait_for(
            " and ".join(repr(t) for t in texts),
            lambda screen: all(t in screen for t in texts),
            extra=extra,
        )

    def wait_for_line(self, pattern: str, extra: Callable[[], str] = lambda: "") -> str:
        regex = re.compile(pattern, re.MULTILINE)
        return self.wait_for(f"a line matching {pattern!r}", regex.search, extra=extra)


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[tuple[Pane, Path, Path, Path]]:
    """partdeck started in tmux with cwd = a directory holding one 12 MiB file.

    Yields the pane, the file, the state dir and the file the exit status is written to.
    """
    tmux = _require_tmux()
    binary = _partdeck_binary()
    files = tmp_path / "files"
    files.mkdir()
    upload = files / FILE_NAME
    upload.write_bytes(os.urandom(FILE_SIZE))
    state = tmp_path / "state"
    status = tmp_path / "exit-status"

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PARTDECK_CONFIG", "PARTDECK_STATE_DIR", "TMUX", "TMUX_PANE")
        and not k.startswith("TEXTUAL")
    }
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # no config here: the in-process sandbox
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        PARTDECK_STATE_DIR=str(state),
        TERM="xterm-256color",
    )
    locale = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or ""
    if "utf" not in locale.lower():
        env.pop("LC_ALL", None)
        env["LC_CTYPE"] = "C.UTF-8"  # tmux and the screen text need UTF-8 (✓, ●, ×)
    # tmux sets its own TERM in the pane, so the script exports what partdeck must see.
    exports = " ".join(
        f"{k}={shlex.quote(env[k])}"
        for k in ("TERM", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "PARTDECK_STATE_DIR")
    )
    script = tmp_path / "run.sh"
    lines = [
        "#!/bin/sh",
        "unset PARTDECK_CONFIG",
        f"export {exports}",
        f"cd {shlex.quote(str(files))} || exit 99",
        shlex.quote(binary),
        "code=$?",
        f'echo "$code" > {shlex.quote(str(status))}',
        'echo "EXIT=$code"',
        "sleep 600",
    ]
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o700)

    handle = Pane(tmux, f"partdeck-test-{os.getpid()}", env)
    socket_path = ""
    try:
        handle.run(
            "-f", "/dev/null",
            "new-session", "-d", "-s", "pd", "-x", str(WIDTH), "-y", str(HEIGHT),
            "-c", str(files), str(script),
        )  # fmt: skip
        socket_path = handle.run("display-message", "-p", "#{socket_path}").strip()
        yield handle, upload, state, status
    finally:
        subprocess.run(
            [tmux, "-L", handle.socket, "kill-server"],
            env=env,
            capture_output=True,
            timeout=30,
            check=False,
        )
        if socket_path:  # tmux 3.3 leaves the socket file behind
            Path(socket_path).unlink(missing_ok=True)


def _sandbox_object(state: Path, location: str) -> bytes:
    """The object's bytes from the running in-process sandbox (it goes when partdeck exits)."""
    config = load_config(state / "sandbox" / "in-process.toml", must_exist=True)
    account = config.accounts["sandbox-s3"]
    access, secret = account.s3_credentials()
    client = boto3.client(
        "s3",
        endpoint_url=account.endpoint_url,
        region_name=account.region,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
    )
    where = urlparse(location)
    assert where.scheme == "s3", location
    body: bytes = client.get_object(Bucket=where.netloc, Key=where.path.lstrip("/"))["Body"].read()
    return body


def _assert_no_secret(state: Path, screens: list[str]) -> None:
    """The in-process sandbox's tokens and S3 key, and secret shapes: on none of the screens."""
    leaks = Leaks()
    for token in (state / "sandbox" / "tokens").iterdir():
        leaks.add(f"{token.name} token", token.read_text().strip())
    config = load_config(state / "sandbox" / "in-process.toml", must_exist=True)
    leaks.add("S3 secret key", config.accounts["sandbox-s3"].s3_credentials()[1])
    for n, text in enumerate(screens):
        leaks.search(f"tmux screen {n}", text)
    assert len(leaks.secrets) == 9, list(leaks.secrets.values())  # Box: client secret, JWT key
    leaks.assert_clean()


def test_one_upload_from_the_file_browser_to_completed(
    pane: tuple[Pane, Path, Path, Path],
) -> None:
    tm, upload, state, status = pane

    def log() -> str:
        path = state / "partdeck.log"
        return f"{path}:\n{path.read_text()}" if path.exists() else ""

    tm.wait_for_text("no sessions yet: press n to pick files", extra=log)

    # The file browser opens at the cwd; no account yet.
    tm.keys("n")
    tm.wait_for_line(rf"^\s*{re.escape(FILE_NAME)}\s+12 MiB\s+choose an account \(a\)", log)
    assert "../" in tm.last, tm.last

    # The account picker checks every account; sandbox-s3 is the first row.
    tm.keys("a")
    tm.wait_for_text("Choose an account", extra=log)
    picker = tm.wait_for_line(r"sandbox-s3\s+s3\s+✓ .*✓ ", log)
    tm.keys("Enter")
    tm.wait_for_text("account: sandbox-s3 (s3)", extra=log)
    tm.wait_for_line(rf"^\s*{re.escape(FILE_NAME)}\s+12 MiB\s+{PARTS} × 8 MiB", log)

    # The listing is ../ then the file: one row down, space marks it.
    tm.keys("Down")
    tm.keys("Space")
    tm.wait_for_line(rf"^\s*●\s+{re.escape(FILE_NAME)}\s", log)
    tm.wait_for_text(f"1 marked · 12 MiB · {PARTS} parts", extra=log)

    # s starts it; the main screen shows the session to the end.
    tm.keys("s")
    screen = tm.wait_for_line(rf"^│ {re.escape(SHOWN_NAME)}\s+✓ completed\s+{PARTS}/{PARTS}\s", log)
    assert "✗" not in screen, screen

    journal = Journal.open(state)
    try:
        sessions = journal.sessions()
        assert [s.state for s in sessions] == [SessionState.COMPLETED], sessions
        session = sessions[0]
        parts = journal.parts(session.id)
    finally:
        journal.close()
    assert session.path == str(upload)
    assert session.account == "sandbox-s3"
    assert session.size == FILE_SIZE
    assert session.location is not None
    data = upload.read_bytes()
    assert [p.state for p in parts] == [PartState.VERIFIED] * PARTS
    assert session.remote["checksum"] == "crc64nvme"  # the sandbox's gateway checks it
    for part in parts:
        assert part.checksum == checksums.checksum("crc64nvme", data[part.start : part.end])

    # The bytes are on the sandbox (checked now: it stops when partdeck exits).
    assert _sandbox_object(state, session.location) == data

    # No secret of the sandbox reaches the screen (tests/proof/test_secrets.py does the rest).
    _assert_no_secret(state, [picker, screen, tm.capture()])

    # Nothing is uploading, so q quits at once, with status 0.
    tm.keys("q")
    deadline = time.monotonic() + STEP_SECONDS
    while not (status.exists() and status.read_text().strip()):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"partdeck did not exit within {STEP_SECONDS:.0f}s of q; last screen:\n"
                f"{tm.capture()}\n{log()}"
            )
        time.sleep(0.2)
    assert status.read_text().strip() == "0", f"{tm.capture()}\n{log()}"
    tm.wait_for_text("EXIT=0")
    assert "Traceback" not in tm.last, tm.last
    # The UI logs its internal errors to STATE/partdeck.log (the file itself always exists).
    logged = log()
    assert not any(word in logged for word in (" ERROR ", " CRITICAL ", "Traceback")), logged
