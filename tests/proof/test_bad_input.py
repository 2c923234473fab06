"""Bad-input corpus: every case is a real run of the ``partdeck`` CLI against the sandbox.

Four tables, one test each, so the count is plain:

- ``CONFIGS``: malformed and hostile config files and secrets (syntax, encodings, sizes,
  wrong types, unknown keys, bad URLs, secrets inline and by file, broken token files).
- ``NAMES``: odd but legal file names; each must upload and land, under its exact name
  where the provider keeps names as given (two that cannot be names are refused).
- ``LOCAL``: files that are not files, that shrink, grow or vanish during an upload or
  between a pause (or a crash) and the resume, symlinks, devices, permission denied, a
  full disk and a broken journal under the state dir.
- ``REPLIES``: every provider's control-plane calls (and part answers where the server
  sends a body) answered with HTML, an empty body, truncated JSON/XML, values of the
  wrong types, or a huge body, through a proxy over real sockets.

Every failing case must end with a non-zero exit and exactly one line on stderr that
names the problem and the fix (no traceback, no repr); every case leaves the journal
sound (``integrity_check`` is ``ok``), no part in flight, and the sessions recorded
before it (a completed one and an uploaded one) exactly as they were. A server case
also proves nothing was lost: once the replies are honest again, one ordinary command
(``resume``, ``retry``, ``complete`` or ``abort``) finishes the job and the provider
holds exactly the file's bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Result, make_file
from tests.support.crash import kill_once_verified
from tests.support.hostile import (
    HOSTILE_NAMES,
    KINDS,
    HostileProxy,
    Rule,
    hidden_characters,
    hostile_proxy,
)
from tests.support.proof import Proof
from tui.cli import main
from tui.core.display import visible
from tui.core.journal import Journal
from tui.core.model import Event, Part, Session
from tui.sandbox.runner import PROFILE, Sandbox, api_root, box_upload_root

SUITE = "bad input"
MiB = 1024 * 1024
ENGINE: dict[str, Any] = {"parts_in_flight": 4, "parts_per_session": 2, "retries": 1}
"""Engine settings of every config here: quick to give up."""
MAX_LINE = 800
"""Longest error line accepted: one sentence with a path or two, never a server's dump."""
JUNK = re.compile(
    r"Traceback|<class |internal error| object at 0x|'[^' ]*\\x[0-9a-f]{2}|\w+Error\(|\{'|"
    r"(?:^|[\s(=:])b'[^']*'"
)
"""What a line for people never holds: tracebacks, reprs, quoted escapes or bytes values.
(A file name's control characters are shown as ``\\x1b``, unquoted, on purpose.)"""
IN_FLIGHT = frozenset({"hashing", "uploading", "uploaded"})
"""Part states that only exist while a process is sending the part."""


# -- the bench every case runs on ----------------------------------------------------------


def one_line(err: str, *needles: str) -> str:
    """The single stderr line of a failed run, checked for shape and for ``needles``."""
    assert err.endswith("\n") and err.count("\n") == 1, f"not exactly one line: {err!r}"
    line = err[:-1]
    assert line.startswith("partdeck: "), line
    junk = JUNK.search(line)
    assert junk is None, f"{junk.group(0)!r} in {line!r}"
    control = [c for c in line if unicodedata.category(c) == "Cc"]
    assert not control, f"control characters {control!r} in {line!r}"
    assert len(line) <= MAX_LINE, f"{len(line)} characters: {line[:300]!r}..."
    assert "; " in line or ", then " in line, f"no fix given: {line!r}"
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


@dataclass
class Bench:
    """One case's world: the sandbox, a private state dir seeded with two sessions, the CLI."""

    world: Sandbox
    proof: Proof
    tmp: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    seeded: dict[str, tuple[str, frozenset[int]]]
    state_dir: Path = field(init=False)
    config: Path = field(init=False)

    def __post_init__(self) -> None:
        self.state_dir = self.tmp / "state"
        self.config = self.world.write_config(self.tmp / "config.toml", ENGINE)

    def cli(
        self,
        *args: str | os.PathLike[str],
        config: Path | None = None,
        state_dir: Path | None = None,
    ) -> Result:
        """Run ``partdeck ARGS`` in-process with this bench's config and state dir."""
        self.capsys.readouterr()
        argv = [str(a) for a in args]
        state = state_dir or self.state_dir
        ours = ["--config", str(config or self.config), "--state-dir", str(state)]
        at = argv.index("--") if "--" in argv else len(argv)  # options go before a "--"
        code = main([*argv[:at], *ours, *argv[at:]])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def child(
        self,
        *args: str | os.PathLike[str],
        config: Path | None = None,
        state_dir: Path | None = None,
        preexec: Callable[[], None] | None = None,
    ) -> Result:
        """Run ``partdeck ARGS`` as a real child process (for rlimits and dropped rights)."""
        state = state_dir or self.state_dir
        argv = [sys.executable, "-m", "tui", *map(str, args)]
        argv += ["--config", str(config or self.config), "--state-dir", str(state)]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=60, preexec_fn=preexec, check=False
            )
        except subprocess.TimeoutExpired:
            raise
        except subprocess.SubprocessError as exc:  # the preexec_fn failed: no such rights here
            pytest.skip(f"cannot set up the child process here ({exc})")
        return Result(done.returncode, done.stdout, done.stderr)

    def serial_config(self) -> Path:
        """The sandbox config with one part at a time per session (hooks land between parts)."""
        return self.world.write_config(self.tmp / "serial.toml", {**ENGINE, "parts_per_session": 1})

    def new_session(self) -> Session:
        """The one session this case made (the seeded ones aside)."""
        journal = self.journal()
        try:
            made = [s for s in journal.sessions() if s.id not in self.seeded]
        finally:
            journal.close()
        assert len(made) == 1, made
        return made[0]

    def file(self, name: str | bytes, size: int, seed: int = 0) -> Path:
        """A file of ``size`` reproducible bytes in its own directory."""
        folder = self.tmp / "files"
        folder.mkdir(exist_ok=True)
        path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(name))))
        return make_file(path, size, seed)

    def journal(self) -> Journal:
        return Journal.open(self.state_dir)

    def session(self, session_id: str) -> Session:
        journal = self.journal()
        try:
            return journal.session(session_id)
        finally:
            journal.close()

    def parts(self, session_id: str) -> list[Part]:
        journal = self.journal()
        try:
            return journal.parts(session_id)
        finally:
            journal.close()

    def verified(self, session_id: str) -> frozenset[int]:
        return frozenset(p.number for p in self.parts(session_id) if p.state == "verified")

    @contextlib.contextmanager
    def on_event(self, when: Callable[[Event], bool], action: Callable[[], None]) -> Iterator[None]:
        """While in the block, run ``action`` once, in the engine's loop, at the first
        event ``when`` accepts (the CLI's reporter subscribes it to the engine)."""
        import tui.cli.commands.common
        import tui.cli.report

        fired: list[bool] = []

        def trigger(event: Event) -> None:
            if not fired and when(event):
                fired.append(True)
                action()

        def make(engine: Any, **kw: Any) -> Any:
            engine.subscribe(trigger)
            return tui.cli.report.make_reporter(engine, **kw)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(tui.cli.commands.common, "make_reporter", make)
            yield
        assert fired, "the moment to act never came"

    def note(self, case: str, code: int, line: str) -> None:
        """Keep what a case said, for the verbose report."""
        short = line.replace(str(self.tmp), "$TMP")
        self.proof.tally.note(SUITE, f"{case}: exit {code}: {short}")

    def check_journal(self) -> None:
        """The journal is sound, nothing is left in flight, and the seeded sessions hold."""
        if not (self.state_dir / Journal.FILENAME).is_file():
            return
        journal = self.journal()
        try:
            assert journal.integrity_check() == "ok"
            for session in journal.sessions():
                stuck = [p.number for p in journal.parts(session.id) if p.state in IN_FLIGHT]
                assert not stuck, f"{session.id[:8]} ({session.state}): parts {stuck} in flight"
                if session.id in self.seeded:
                    state, verified = self.seeded[session.id]
                    parts = journal.parts(session.id)
                    assert session.state == state
                    assert frozenset(p.number for p in parts if p.state == "verified") == verified
            missing = set(self.seeded) - {s.id for s in journal.sessions()}
            assert not missing, f"seeded sessions lost: {missing}"
        finally:
            journal.close()


def _quiet_cli(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


@pytest.fixture(scope="module")
def seeded_state(
    world: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, tuple[str, frozenset[int]]]]]:
    """A state dir holding a completed session and an uploaded (not completed) one."""
    root = tmp_path_factory.mktemp("bad-input-seed")
    config = world.write_config(root / "config.toml", ENGINE)
    state = root / "state"
    for name, extra in (("bi-seed-done.bin", []), ("bi-seed-held.bin", ["--no-complete"])):
        path = make_file(root / name, 6 * MiB, seed=len(name))
        argv = ["upload", str(path), "--account", "sandbox-s3", *extra]
        assert _quiet_cli([*argv, "--config", str(config), "--state-dir", str(state)]) == 0
    journal = Journal.open(state)
    try:
        seeded = {
            s.id: (
                str(s.state),
                frozenset(p.number for p in journal.parts(s.id) if p.state == "verified"),
            )
            for s in journal.sessions()
        }
    finally:
        journal.close()
    assert sorted(state for state, _ in seeded.values()) == ["completed", "uploaded"]
    yield state, seeded
    # The world is shared: leave no unfinished S3 upload of ours (the seeded one, and those
    # whose create answer the proxy mangled) for the next suite's listings.
    backend = world.backends["s3"]
    for key, upload_id in asyncio.run(backend.uploads("bi-")):
        asyncio.run(backend.abort(key, upload_id))


@pytest.fixture
def bench(
    world: Sandbox,
    proof: Proof,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    seeded_state: tuple[Path, dict[str, tuple[str, frozenset[int]]]],
) -> Iterator[Bench]:
    """A bench on a copy of the seeded state dir; waits and backoffs made short."""
    import tui.core.engine.scheduler
    import tui.providers.box.commit
    import tui.providers.fileflare.api
    import tui.providers.fileflare.provider
    import tui.providers.gumroad.provider
    import tui.providers.s3.finish
    import tui.providers.wunderlist.provider

    # Each constant is patched in the module that reads it (the packages re-export copies).
    for module, name in (
        (tui.core.engine.scheduler, "BACKOFF_BASE"),
        (tui.providers.s3.finish, "ABORT_SPACING"),
        (tui.providers.s3.finish, "COMPLETE_BACKOFF"),
        (tui.providers.gumroad.provider, "ABORT_SPACING"),
        (tui.providers.box.commit, "COMMIT_BACKOFF"),
        (tui.providers.fileflare.provider, "COMPLETE_PAUSE"),
        (tui.providers.fileflare.api, "ABORT_PAUSE"),
        (tui.providers.wunderlist.provider, "FINISH_PAUSE"),
    ):
        monkeypatch.setattr(module, name, 0.01)
    state, seeded = seeded_state
    made = Bench(world, proof, tmp_path, capsys, monkeypatch, seeded)
    shutil.copytree(state, made.state_dir)
    proof.tally.add(SUITE, "inputs tried")
    yield made
    made.check_journal()


# -- what landed -------------------------------------------------------------------------


def _sandbox_json(world: Sandbox, provider: str, path: str) -> Any:
    answer = httpx.get(world.contexts[provider].public_url + path, timeout=30)
    answer.raise_for_status()
    return answer.json()


def object_key(world: Sandbox, session: Session) -> str:
    """The key under which an S3-backed provider stores a session's object."""
    remote = session.remote
    if session.provider == "fileflare":
        assets = {a["id"]: a for a in _sandbox_json(world, "fileflare", "/_sandbox/assets")}
        return str(assets[remote["asset_id"]]["key"])
    if session.provider == "wunderlist":
        record = _sandbox_json(world, "wunderlist", f"/_sandbox/uploads/{remote['upload_id']}")
        return str(record["key"])
    return str(remote["key"])


def landed(world: Sandbox, session: Session) -> tuple[str, bytes]:
    """(the name the provider gave the object, its bytes) for a completed session."""
    if session.provider == "box":
        file_id = (session.location or "").split()[2]
        files = {f["id"]: f for f in _sandbox_json(world, "box", "/_sandbox/files")}
        content = httpx.get(
            f"{world.contexts['box'].public_url}/_sandbox/files/{file_id}/content", timeout=30
        )
        content.raise_for_status()
        return str(files[file_id]["name"]), content.content
    key = object_key(world, session)
    return key, asyncio.run(world.backends[session.provider].read(key))


def assert_landed(bench: Bench, session_id: str, path: Path, name: str | None = None) -> None:
    """The session is completed and the provider holds exactly the file's bytes."""
    session = bench.session(session_id)
    assert session.state == "completed", (session.state, session.error)
    key, data = landed(bench.world, session)
    assert data == path.read_bytes(), "the provider holds other bytes than the file"
    if name is not None and session.provider != "fileflare":  # Fileflare keys by asset id
        assert key == name or key.endswith("/" + name), (key, name)


# == 1. config files ========================================================================


@dataclass(frozen=True)
class ConfigCase:
    """A config text (``{s3}`` and the like filled in) and what the one line must say.

    ``needles`` empty means the config is odd but legal: the upload must succeed.
    """

    id: str
    text: str | bytes
    needles: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    setup: Callable[[Path], None] | None = None
    """Prepares files under the case's directory (token files and the like)."""
    secret: str | None = None
    """A value that must not appear in the output."""


def _s3(extra: str = "", name: str = "x") -> str:
    return (
        f'[accounts.{name}]\nprovider = "s3"\nendpoint_url = "{{s3}}"\nbucket = "sandbox-s3"\n'
        f'profile = "{PROFILE}"\ncredentials_file = "{{creds}}"\n{extra}'
    )


def _gumroad(extra: str = 'token_file = "{token}"\n', name: str = "x") -> str:
    return f'[accounts.{name}]\nprovider = "gumroad"\nbase_url = "{{gumroad}}"\n{extra}'


def _token_dir(root: Path) -> None:
    (root / "a-directory").mkdir()


def _token_under_file(root: Path) -> None:
    (root / "plain").write_text("x")


def _token_fifo(root: Path) -> None:
    os.mkfifo(root / "fifo")


def _token_binary(root: Path) -> None:
    (root / "binary").write_bytes(b"\xff\xfe\x00token")


def _token_empty(root: Path) -> None:
    (root / "empty").write_text("  \n")


def _token_huge(root: Path) -> None:
    with (root / "huge").open("wb") as f:
        f.truncate(256 * MiB)  # sparse


def _relative_token(root: Path) -> None:
    shutil.copy(root / "token", root / "rel-token")


CONFIGS: list[ConfigCase] = [
    # -- the bytes of the file
    ConfigCase("syntax-unclosed-table", "[engine\nretries = 1\n", ("line 1", "invalid TOML")),
    ConfigCase("syntax-missing-value", "[engine]\nretries =\n", ("line 2", "invalid TOML")),
    ConfigCase("syntax-unclosed-string", '[ui]\ntheme = "dark\n', ("line 2", "invalid TOML")),
    ConfigCase("syntax-bare-word", "partdeck please upload\n", ("line 1", "invalid TOML")),
    ConfigCase("binary-garbage", bytes(range(256)) * 8, ("not UTF-8", "save it as UTF-8")),
    ConfigCase("utf16-with-bom", ("\ufeff" + _s3()).encode("utf-16"), ("not UTF-8",)),
    ConfigCase("latin1-accent", "[ui]\ntheme = 'caf\xe9'\n".encode("latin-1"), ("not UTF-8",)),
    ConfigCase("nul-bytes", b"[engine]\x00\nretries = 1\n", ("line 1", "invalid TOML")),
    ConfigCase("only-nul-bytes", b"\x00" * 4096, ("line 1", "invalid TOML")),
    ConfigCase("utf8-bom-is-fine", "\ufeff" + _s3()),
    ConfigCase("crlf-line-ends-are-fine", _s3().replace("\n", "\r\n")),
    ConfigCase("empty-file", "", ("no accounts configured", "add [accounts.x]")),
    ConfigCase("comments-only", "# nothing\n\n# here\n", ("no accounts configured",)),
    ConfigCase(
        "huge-file",
        "# " + "padding " * 16 + "\n" * 1 + ("# " + "x" * 98 + "\n") * 80_000,
        ("is 8,0", "a config is a small text file"),
    ),
    ConfigCase(
        "huge-value", '[engine]\npart_size = "' + "9" * 300_000 + 'Q"\n', ("engine.part_size",)
    ),
    ConfigCase("duplicate-table", "[engine]\nretries = 1\n[engine]\nretries = 2\n", ("TOML",)),
    ConfigCase("duplicate-key", "[engine]\nretries = 1\nretries = 2\n", ('"retries" already',)),
    ConfigCase(
        "duplicate-account",
        _s3() + _s3(),
        ("TOML",),
    ),
    # -- where things go
    ConfigCase("setting-outside-table", "retries = 3\n", ("retries belongs in the [engine]",)),
    ConfigCase("unknown-table", "[engnie]\nretries = 1\n", ("did you mean engine?",)),
    ConfigCase("engine-not-table", "engine = 5\n", ("engine must be a table",)),
    ConfigCase(
        "unknown-engine-key", "[engine]\nparts_inflight = 2\n", ("did you mean parts_in_flight?",)
    ),
    ConfigCase("unknown-ui-key", "[ui]\ntheem = 'x'\n", ("did you mean theme?",)),
    ConfigCase("unknown-account-key", _s3('bukcet = "b"\n'), ("did you mean bucket?",)),
    ConfigCase(
        "misplaced-provider-key",
        _gumroad('token_file = "{token}"\nfolder_id = "0"\n'),
        ("applies only to box accounts",),
    ),
    ConfigCase("s3-with-token-env", _s3('token_env = "T"\n'), ("not used by s3 accounts",)),
    ConfigCase("accounts-not-table", "accounts = 5\n", ("accounts must be a table",)),
    ConfigCase("account-not-table", "[accounts]\nx = 5\n", ("accounts.x must be a table",)),
    ConfigCase("account-bad-name", _s3(name='"my account!"'), ("account names may use only",)),
    # -- engine values
    ConfigCase(
        "parts-in-flight-text",
        '[engine]\nparts_in_flight = "8"\n',
        ("whole number >= 1", "(got '8')"),
    ),
    ConfigCase("parts-in-flight-zero", "[engine]\nparts_in_flight = 0\n", ("whole number >= 1",)),
    ConfigCase("parts-in-flight-float", "[engine]\nparts_in_flight = 2.5\n", ("whole number",)),
    ConfigCase("parts-in-flight-bool", "[engine]\nparts_in_flight = true\n", ("(got true)",)),
    ConfigCase("parts-in-flight-huge-is-fine", "[engine]\nparts_in_flight = 2147483647\n" + _s3()),
    ConfigCase(
        "parts-per-session-negative", "[engine]\nparts_per_session = -4\n", ("whole number >= 1",)
    ),
    ConfigCase("retries-negative", "[engine]\nretries = -1\n", ("whole number >= 0",)),
    ConfigCase("retries-array", "[engine]\nretries = [1, 2]\n", ("whole number >= 0",)),
    ConfigCase("retries-huge-is-fine", "[engine]\nretries = 1000000000000\n" + _s3()),
    ConfigCase("auto-complete-text", '[engine]\nauto_complete = "yes"\n', ("true or false",)),
    ConfigCase("part-size-word", '[engine]\npart_size = "lots"\n', ("size above 0",)),
    ConfigCase("part-size-zero", "[engine]\npart_size = 0\n", ("size above 0",)),
    ConfigCase("part-size-negative", "[engine]\npart_size = -5\n", ("size above 0",)),
    ConfigCase("part-size-nan", "[engine]\npart_size = nan\n", ("size above 0",)),
    ConfigCase("part-size-table", "[engine]\npart_size = {mib = 8}\n", ("(got a table)",)),
    ConfigCase("bandwidth-zero", '[engine]\nbandwidth_limit = "0MB"\n', ("size above 0",)),
    ConfigCase(
        "bandwidth-negative",
        "[engine]\nbandwidth_limit = -1\n",
        ("bandwidth_limit", "size above 0"),
    ),
    ConfigCase(
        "bandwidth-past-int64",
        '[engine]\nbandwidth_limit = "99999999999999999999TiB"\n',
        ("engine.bandwidth_limit must be at most",),
    ),
    ConfigCase(
        "link-speed-zero", "[engine]\nlink_speed = 0\n", ("engine.link_speed", "size above 0")
    ),
    ConfigCase(
        "part-size-past-every-provider",
        '[engine]\npart_size = "6GiB"\n',
        ("engine.part_size must be at most 5 GiB", 'e.g. part_size = "16MiB"'),
    ),
    ConfigCase(
        "parts-per-session-zero", "[engine]\nparts_per_session = 0\n", ("whole number >= 1",)
    ),
    ConfigCase(
        "retries-text", '[engine]\nretries = "5"\n', ("engine.retries", "whole number >= 0")
    ),
    ConfigCase("min-part-size-zero", _s3("min_part_size = 0\n"), ("min_part_size", "size above 0")),
    ConfigCase("stall-after-word", '[engine]\nstall_after = "soon"\n', ("duration above 0",)),
    ConfigCase("stall-after-negative", "[engine]\nstall_after = -3\n", ("duration above 0",)),
    ConfigCase("stall-after-inf-is-fine", "[engine]\nstall_after = inf\n" + _s3()),
    ConfigCase("link-speed-word", '[engine]\nlink_speed = "fast"\n', ("size above 0",)),
    ConfigCase("theme-number", "[ui]\ntheme = 5\n", ("non-empty string",)),
    ConfigCase("key-remap-number", "[keys]\nretry-part = 5\n", ("key name in quotes",)),
    # -- accounts
    ConfigCase("provider-missing", '[accounts.x]\nbucket = "b"\n', ("provider is missing",)),
    ConfigCase(
        "provider-unknown", '[accounts.x]\nprovider = "dropbox"\n', ("'dropbox' is not supported",)
    ),
    ConfigCase("provider-number", "[accounts.x]\nprovider = 3\n", ("is not supported",)),
    ConfigCase(
        "s3-bucket-missing", _s3().replace('bucket = "sandbox-s3"\n', ""), ("bucket is missing",)
    ),
    ConfigCase("s3-bucket-slash", _s3().replace('"sandbox-s3"', '"a/b"'), ("without",)),
    ConfigCase("s3-region-empty", _s3('region = ""\n'), ("region must be a non-empty string",)),
    ConfigCase("s3-prefix-number", _s3("prefix = 7\n"), ("prefix must be a non-empty string",)),
    ConfigCase("url-ftp", _s3().replace("{s3}", "ftp://127.0.0.1/"), ("http:// or https:// URL",)),
    ConfigCase("url-no-host", _s3().replace("{s3}", "http://"), ("http:// or https:// URL",)),
    ConfigCase(
        "url-number", _gumroad().replace('"{gumroad}"', "443"), ("http:// or https:// URL",)
    ),
    ConfigCase("url-spaces", _gumroad().replace("{gumroad}", "https://api gumroad.com"), ("URL",)),
    ConfigCase(
        "url-bad-port", _gumroad().replace("{gumroad}", "https://api.test:99999/v2"), ("URL",)
    ),
    ConfigCase(
        "url-with-password",
        _gumroad().replace("{gumroad}", "https://me:hunter2secret@api.test/v2"),
        ("must not hold credentials",),
        secret="hunter2secret",
    ),
    ConfigCase(
        "url-http-remote-token",
        _gumroad().replace("{gumroad}", "http://api.gumroad.example/v2"),
        ("https://", "in clear"),
    ),
    ConfigCase(
        "url-http-remote-box-upload",
        '[accounts.x]\nprovider = "box"\nupload_url = "http://upload.box.example/api/2.0"\n'
        'token_env = "BOX_TOKEN"\n',
        ("upload_url", "https://"),
    ),
    ConfigCase(
        "verify-tls-off-remote",
        _gumroad('token_file = "{token}"\nverify_tls = false\n').replace(
            "{gumroad}", "https://api.gumroad.example/v2"
        ),
        ("verify_tls = false is allowed only for loopback",),
    ),
    ConfigCase("verify-tls-text", _s3('verify_tls = "no"\n'), ("true or false",)),
    ConfigCase(
        "wunderlist-no-client-id",
        '[accounts.x]\nprovider = "wunderlist"\ntoken_env = "W"\n',
        ("client_id is missing",),
    ),
    # -- secrets
    ConfigCase(
        "inline-token",
        _gumroad('token = "gum-0123456789abcdef"\n'),
        ("secrets are not stored in the config",),
        secret="gum-0123456789abcdef",
    ),
    ConfigCase(
        "inline-s3-secret",
        _s3('secret_key = "s3-very-secret-key-value"\n'),
        ("secrets are not stored in the config",),
        secret="s3-very-secret-key-value",
    ),
    ConfigCase(
        "inline-and-file",
        _gumroad('token_file = "{token}"\ntoken = "gum-0123456789abcdef"\n'),
        ("sets token_file and token; keep only one",),
        env=(("PARTDECK_ALLOW_INLINE_SECRETS", "1"),),
        secret="gum-0123456789abcdef",
    ),
    ConfigCase(
        "inline-allowed-wrong-token",
        _gumroad('token = "gum-0123456789abcdef"\n'),
        ("rejected the token of account x",),
        env=(("PARTDECK_ALLOW_INLINE_SECRETS", "1"),),
        secret="gum-0123456789abcdef",
    ),
    ConfigCase(
        "env-and-command",
        _gumroad('token_env = "GUM"\ntoken_command = "echo x"\n'),
        ("sets token_env and token_command; keep only one",),
    ),
    ConfigCase("no-secret-at-all", _gumroad(""), ("needs token_env, token_command or token_file",)),
    ConfigCase(
        "secret-pasted-as-env-name",
        _gumroad('token_env = "gum-0123456789 abcdef"\n'),
        ("must be the name of an environment variable",),
        secret="0123456789",
    ),
    ConfigCase(
        "token-env-unset",
        _gumroad('token_env = "PARTDECK_NO_SUCH_VAR"\n'),
        ("PARTDECK_NO_SUCH_VAR is not set",),
    ),
    ConfigCase(
        "token-env-empty",
        _gumroad('token_env = "PARTDECK_EMPTY_VAR"\n'),
        ("PARTDECK_EMPTY_VAR is empty",),
        env=(("PARTDECK_EMPTY_VAR", ""),),
    ),
    ConfigCase(
        "token-file-missing", _gumroad('token_file = "{dir}/absent"\n'), ("does not exist",)
    ),
    ConfigCase(
        "token-file-directory",
        _gumroad('token_file = "{dir}/a-directory"\n'),
        ("is a directory",),
        setup=_token_dir,
    ),
    ConfigCase(
        "token-file-under-a-file",
        _gumroad('token_file = "{dir}/plain/token"\n'),
        ("Not a directory",),
        setup=_token_under_file,
    ),
    ConfigCase(
        "token-file-fifo",
        _gumroad('token_file = "{dir}/fifo"\n'),
        ("not a regular file",),
        setup=_token_fifo,
    ),
    ConfigCase(
        "token-file-device", _gumroad('token_file = "/dev/zero"\n'), ("not a regular file",)
    ),
    ConfigCase(
        "token-file-binary",
        _gumroad('token_file = "{dir}/binary"\n'),
        ("not UTF-8 text",),
        setup=_token_binary,
    ),
    ConfigCase(
        "token-file-empty",
        _gumroad('token_file = "{dir}/empty"\n'),
        ("is empty; put the token in it",),
        setup=_token_empty,
    ),
    ConfigCase(
        "token-file-huge",
        _gumroad('token_file = "{dir}/huge"\n'),
        ("too big for a token",),
        setup=_token_huge,
    ),
    ConfigCase(
        "token-file-relative-is-fine", _gumroad('token_file = "rel-token"\n'), setup=_relative_token
    ),
    ConfigCase(
        "token-command-fails", _gumroad('token_command = "exit 3"\n'), ("exited with status 3",)
    ),
    ConfigCase("token-command-silent", _gumroad('token_command = "true"\n'), ("printed nothing",)),
    ConfigCase(
        "token-command-missing",
        _gumroad('token_command = "/no/such/helper --get"\n'),
        ("exited with status 127",),
    ),
    ConfigCase(
        "s3-profile-missing",
        _s3().replace(f'"{PROFILE}"', '"nobody"'),
        ("profile 'nobody'",),
    ),
    ConfigCase(
        "s3-credentials-file-missing",
        _s3().replace("{creds}", "{dir}/no-credentials"),
        ("no-credentials",),
    ),
]


def _fill(case: ConfigCase, bench: Bench, root: Path) -> bytes:
    world = bench.world
    token = root / "token"
    values = {
        "{s3}": world.backends["s3"].public_url,
        "{creds}": str(world.root / "aws-credentials"),
        "{gumroad}": api_root("gumroad", world.contexts["gumroad"].public_url),
        "{token}": str(token),
        "{dir}": str(root),
    }
    if isinstance(case.text, bytes):
        return case.text
    text = case.text
    for key, value in values.items():
        text = text.replace(key, value)
    return text.encode()


@pytest.mark.parametrize("case", CONFIGS, ids=[c.id for c in CONFIGS])
def test_config(bench: Bench, case: ConfigCase) -> None:
    bench.proof.tally.add(SUITE, "config")
    root = bench.tmp / "conf"
    root.mkdir()
    token = root / "token"
    token.write_text(bench.world.contexts["gumroad"].token + "\n")
    token.chmod(0o600)
    if case.setup is not None:
        case.setup(root)
    config = root / "config.toml"
    config.write_bytes(_fill(case, bench, root))
    config.chmod(0o600)
    for name, value in case.env:
        bench.monkeypatch.setenv(name, value)
    path = bench.file(f"bi-config-{case.id}.bin", 1000, seed=3)
    result = bench.cli("upload", path, "--account", "x", "--json", config=config)
    if case.secret is not None:
        assert case.secret not in result.out + result.err
    if not case.needles:
        assert result.code == 0, result.err
        assert result.err == ""
        assert_landed(bench, result.summary["session"], path, path.name)
        return
    assert result.code != 0, result.out
    bench.note(case.id, result.code, one_line(result.err, *case.needles))


# == 2. server replies ======================================================================


@dataclass(frozen=True)
class Call:
    """One control-plane call of one provider, as the proxy sees it, and when it is made."""

    provider: str
    name: str
    method: str
    path: str
    phase: str
    """``open``, ``part`` or ``complete`` (during an upload), ``abort`` (of an uploaded
    session), ``list`` (the parts listing a resume makes)."""
    query: str | None = None
    size: int = 1000
    extra: tuple[str, ...] = ()

    @property
    def account(self) -> str:
        return f"hostile-{self.provider}"


_S3_KEY = r"/[^/]+/.+"
_BOX = "/upload/api/2.0/files/upload_sessions"
_BOX_SIZE = 20 * MiB + 1
CALLS: list[Call] = [
    Call("s3", "create", "POST", _S3_KEY, "open", query="uploads"),
    Call("s3", "upload-part", "PUT", _S3_KEY, "part", query="partNumber"),
    Call("s3", "list-parts", "GET", _S3_KEY, "list", query="uploadId"),
    Call("s3", "complete", "POST", _S3_KEY, "complete", query="uploadId"),
    Call("s3", "abort", "DELETE", _S3_KEY, "abort", query="uploadId"),
    Call("gumroad", "presign", "POST", "/v2/files/presign", "open"),
    Call("gumroad", "complete", "POST", "/v2/files/complete", "complete"),
    Call("gumroad", "abort", "POST", "/v2/files/abort", "abort"),
    Call("polar", "create", "POST", "/v1/files/", "open"),
    Call("polar", "uploaded", "POST", "/v1/files/[^/]+/uploaded", "complete"),
    Call("polar", "delete", "DELETE", "/v1/files/[^/]+", "abort"),
    Call("box", "create-session", "POST", _BOX, "open", size=_BOX_SIZE),
    Call("box", "upload-part", "PUT", _BOX + "/[^/]+", "part", size=_BOX_SIZE),
    Call("box", "list-parts", "GET", _BOX + "/[^/]+/parts", "list", size=_BOX_SIZE),
    Call("box", "commit", "POST", _BOX + "/[^/]+/commit", "complete", size=_BOX_SIZE),
    Call("box", "abort", "DELETE", _BOX + "/[^/]+", "abort", size=_BOX_SIZE),
    Call("fileflare", "signed", "POST", "/api/v1/assets/signed", "open"),
    Call("fileflare", "uploaded", "POST", "/api/v1/assets/[^/]+/uploaded", "complete"),
    Call("fileflare", "cancel", "POST", "/api/v1/assets/[^/]+/cancel", "abort"),
    Call("wunderlist", "create-upload", "POST", "/api/v1/uploads", "open"),
    Call(
        "wunderlist",
        "part-url",
        "GET",
        "/api/v1/uploads/[^/]+/parts",
        "part",
        size=5 * MiB + 1,
        extra=("--part-size", "5MiB"),
    ),
    Call("wunderlist", "finish", "PATCH", "/api/v1/uploads/[^/]+", "complete"),
]
"""Every control-plane call, and the part answers that carry a body the client reads."""

REPLIES = [(call, kind) for call in CALLS for kind in KINDS]
"""The full mode's table: every call answered with every kind of hostile reply."""
_PAIRS = [
    ("html", "truncated"),
    ("huge", "retyped"),
    ("html", "empty"),
    ("huge", "truncated"),
    ("html", "retyped"),
    ("huge", "empty"),
]
_UNREADABLE = {
    "s3-create": "endless",
    "gumroad-complete": "endless",
    "box-upload-part": "gzipped",
    "polar-create": "gzipped",
    "wunderlist-part-url": "endless",
}
SHORT_REPLIES = [
    (call, kind) for i, call in enumerate(CALLS) for kind in _PAIRS[i % len(_PAIRS)]
] + [
    (call, _UNREADABLE[f"{call.provider}-{call.name}"])
    for call in CALLS
    if f"{call.provider}-{call.name}" in _UNREADABLE
]
"""The short mode's table: every call answered twice, once by something that never asked
the server (``html`` or ``huge``) and once with the server's own answer mangled; in turn,
so that every provider meets every kind. Then a few calls get an answer too big to read:
one that never ends, or a gzip bomb."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The server-reply table of this run's mode (``--proof``)."""
    if metafunc.definition.name == "test_server_reply":
        table = REPLIES if metafunc.config.getoption("proof") == "full" else SHORT_REPLIES
        ids = [f"{call.provider}-{call.name}-{kind}" for call, kind in table]
        metafunc.parametrize(("call", "kind"), table, ids=ids)


@pytest.fixture(scope="module")
def proxies(world: Sandbox) -> Iterator[dict[str, HostileProxy]]:
    """A hostile proxy in front of every provider's API (S3: its gateway)."""
    with contextlib.ExitStack() as stack:
        made = {"s3": stack.enter_context(hostile_proxy(world.backends["s3"].public_url, xml=True))}
        for provider, ctx in world.contexts.items():
            made[provider] = stack.enter_context(hostile_proxy(ctx.public_url))
        yield made


def _hostile_config(bench: Bench, proxies: dict[str, HostileProxy]) -> Path:
    """The sandbox config plus a ``hostile-NAME`` account per provider, through its proxy."""
    world = bench.world
    lines = [bench.config.read_text()]
    for provider, proxy in proxies.items():
        lines.append(f"\n[accounts.hostile-{provider}]\nprovider = {provider!r}\n")
        if provider == "s3":
            lines.append(
                f'endpoint_url = "{proxy.url}"\nbucket = "{world.backends["s3"].bucket}"\n'
                f'profile = "{PROFILE}"\ncredentials_file = "{world.root / "aws-credentials"}"\n'
                "multipart_threshold = 0\n"  # the cases answer the multipart calls
            )
            continue
        lines.append(
            f'base_url = "{api_root(provider, proxy.url)}"\n'
            f'token_file = "{world.root / "tokens" / provider}"\n'
        )
        if provider == "box":
            lines.append(f'upload_url = "{box_upload_root(proxy.url)}"\n')
        if provider == "wunderlist":
            lines.append(f'client_id = "{world.contexts["wunderlist"].client_id}"\n')
    path = bench.tmp / "hostile.toml"
    path.write_text("".join(lines))
    path.chmod(0o600)
    return path


def _recover(bench: Bench, session: Session, config: Path) -> Result:
    """The ordinary command that carries a stopped session on, from where it stands."""
    parts = bench.parts(session.id)
    short = session.id[:8]
    if session.state == "aborting":
        return bench.cli("abort", short, "--json", config=config)
    if session.state == "complete-unknown":
        force = ("--force",) if session.provider == "gumroad" else ()
        return bench.cli("complete", short, "--json", *force, config=config)
    if any(p.state in ("failed", "expired") for p in parts):
        return bench.cli("retry", short, "--json", config=config)
    if session.opened and all(p.done for p in parts):
        return bench.cli("complete", short, "--json", config=config)
    return bench.cli("resume", short, "--json", config=config)


def _upload_gone(bench: Bench, session: Session) -> None:
    """After an abort, the provider holds no unfinished upload for the session."""
    if session.provider in ("s3", "gumroad"):
        key = session.remote["key"]
        assert asyncio.run(bench.world.backends[session.provider].uploads(key)) == []
    elif session.provider == "box":
        url = bench.world.contexts["box"].public_url
        answer = httpx.get(f"{url}/_sandbox/sessions/{session.remote['upload_id']}", timeout=30)
        assert answer.status_code == 404, answer.text
    elif session.provider == "polar":
        ctx = bench.world.contexts["polar"]
        again = httpx.delete(
            f"{ctx.public_url}/v1/files/{session.remote['file_id']}",
            headers={"Authorization": f"Bearer {ctx.token}"},
            timeout=30,
        )
        assert again.status_code == 404, "the file record was still there"
    elif session.provider == "fileflare":
        assets = {a["id"]: a for a in _sandbox_json(bench.world, "fileflare", "/_sandbox/assets")}
        assert assets[session.remote["asset_id"]]["state"] == "cancelled"


def test_server_reply(
    bench: Bench, proxies: dict[str, HostileProxy], call: Call, kind: str
) -> None:
    bench.proof.tally.add(SUITE, "server replies")
    proxy = proxies[call.provider]
    config = _hostile_config(bench, proxies)
    path = bench.file(f"bi-{call.provider}-{call.name}-{kind}.bin", call.size, seed=len(kind))
    upload: tuple[str | Path, ...] = ("upload", path, "--account", call.account, "--json")
    upload += call.extra
    rule = Rule(call.method, call.path, kind, query=call.query)
    held: frozenset[int] = frozenset()
    try:
        if call.phase in ("abort", "list"):
            ready = bench.cli(*upload, "--no-complete", config=config)
            assert ready.code == 0, ready.err
            held = bench.verified(ready.summary["session"])
            proxy.add(rule)
            command = "abort" if call.phase == "abort" else "resume"
            result = bench.cli(command, ready.summary["session"][:8], "--json", config=config)
        else:
            proxy.add(rule)
            result = bench.cli(*upload, config=config)
    finally:
        proxy.clear()
    assert rule.hits >= 1, "the hostile reply was never given"
    case = f"{call.provider}-{call.name}-{kind}"
    session_id = result.summary["session"]
    want = "aborted" if call.phase == "abort" else "completed"
    if result.code == 0:
        assert result.err == ""
        bench.note(case, 0, "accepted, and checked at the provider below")
        outcome = "accepted"
    else:
        bench.note(case, result.code, one_line(result.err, session_id[:8]))
        stopped = bench.session(session_id)
        assert stopped.state in ("failed", "complete-unknown", "aborting"), stopped.state
        kept = bench.verified(session_id)
        assert held <= kept, f"verified parts {held - kept} were lost"
        if call.phase == "complete":
            everything = {p.number for p in bench.parts(session_id)}
            assert kept == everything, "a part to complete with was lost"
        recovered = _recover(bench, stopped, config)
        assert recovered.code == 0, recovered.err
        assert recovered.err == ""
        outcome = "refused"
    bench.proof.tally.add(SUITE, f"server replies {outcome}")
    session = bench.session(session_id)
    assert session.state == want, (session.state, session.error)
    if want == "completed":
        assert_landed(bench, session_id, path, path.name)
    else:
        _upload_gone(bench, session)


# == 3. odd file names ======================================================================


@dataclass(frozen=True)
class NameCase:
    """A legal but odd file name: it must upload and land under exactly that name.

    ``given`` is how the name reaches partdeck: ``path`` (absolute), ``bare`` (as typed in
    its directory, after ``--``), ``unguarded`` (as typed, without ``--``) or ``dotted``
    (``./NAME``). ``needles`` non-empty means it is refused, in one line.
    """

    id: str
    name: str | bytes
    provider: str = "s3"
    given: str = "path"
    needles: tuple[str, ...] = ()


NAMES: list[NameCase] = [
    NameCase("spaces", "with  two spaces.bin"),
    NameCase("leading-trailing-spaces", "  padded name  "),
    NameCase("unicode-nfc", unicodedata.normalize("NFC", "café-crème.bin")),
    NameCase("unicode-nfd", unicodedata.normalize("NFD", "café-crème.bin")),
    NameCase("emoji", "📦 backup 🚀 final.bin"),
    NameCase("rtl-hebrew-arabic", "קובץ ملف.bin"),
    NameCase("rtl-override", "invoice-\u202egnp.exe"),
    NameCase("zero-width-joiner", "a\u200db\ufeffc.bin"),
    NameCase("tab-and-cr", "tab\there\rcr.bin"),
    NameCase("newline", "line one\nline two.bin", provider="gumroad"),
    NameCase("terminal-escape", "\x1b[31mred\x1b[0m.bin", provider="fileflare"),
    NameCase("255-bytes-ascii", "n" * 251 + ".bin"),
    NameCase("255-bytes-multibyte", "€" * 83 + "xy.bin"),
    NameCase("leading-dash-after-dashdash", "-rf.bin", given="bare"),
    NameCase("looks-like-help", "--help", given="bare"),
    NameCase(
        "leading-dash-without-dashdash",
        "-rf.bin",
        given="unguarded",
        needles=("-rf.bin looks like an option but is a file here", "after --", "./-rf.bin"),
    ),
    NameCase("looks-like-option-with-value", "--account=evil", given="dotted"),
    NameCase("single-dash", "-", given="dotted"),
    NameCase("quotes-and-backslash", 'it\'s "quoted" \\ back.bin'),
    NameCase("url-special", "100% sure?&a=b#frag;+.bin"),
    NameCase("percent-encoded", "%2e%2e%2fescape%00.bin"),
    NameCase("three-dots", "..."),
    NameCase("glob-characters", "*?[x]{a,b}.bin"),
    NameCase("not-utf8", b"latin1-caf\xe9.bin", needles=("latin1-caf\ufffd.bin", "not UTF-8")),
    NameCase("gumroad-unicode", "📦 ünï cødé.bin", provider="gumroad"),
    NameCase("polar-unicode", "📦 ünï cødé.bin", provider="polar"),
    NameCase("fileflare-unicode-newline", "📦 ünï\ncødé.bin", provider="fileflare"),
    NameCase("wunderlist-unicode", "📦 ünï cødé.bin", provider="wunderlist"),
    NameCase("box-unicode", "📦 ünï cødé.bin", provider="box"),
    NameCase(
        "box-backslash",
        "back\\slash.bin",
        provider="box",
        needles=("does not take the file name", "rename"),
    ),
]


def _shown_name(name: str | bytes) -> str:
    return os.fsdecode(name) if isinstance(name, bytes) else name


@pytest.mark.parametrize("case", NAMES, ids=[c.id for c in NAMES])
def test_odd_name(bench: Bench, case: NameCase) -> None:
    bench.proof.tally.add(SUITE, "odd names")
    size = _BOX_SIZE if case.provider == "box" else 2000
    path = bench.file(case.name, size, seed=7)
    account = f"sandbox-{case.provider}"
    if case.given == "path":
        args: tuple[str | os.PathLike[str], ...] = ("--account", account, "--json", path)
    else:
        bench.monkeypatch.chdir(path.parent)
        typed = f"./{path.name}" if case.given == "dotted" else path.name
        guard = () if case.given == "unguarded" else ("--",)
        args = ("--account", account, "--json", *guard, typed)
    result = bench.cli("upload", *args)
    if case.needles:
        assert result.code != 0, result.out
        bench.note(case.id, result.code, one_line(result.err, *case.needles))
        return
    assert result.code == 0, result.err
    assert result.err == ""
    # S3 and Box keep the name as given; the others may tidy it (Gumroad: "\n" -> "-").
    name = _shown_name(case.name) if case.provider in ("s3", "box") else None
    assert_landed(bench, result.summary["session"], path, name)


# == 4. local files, the journal and the disk ===============================================

LOCAL: dict[str, Callable[[Bench], None]] = {}
"""Case id -> the case: each sets up, runs the CLI, and checks what it says and keeps."""
THREE_PARTS = 10 * MiB + 5
"""A file of three 5 MiB parts (the last a few bytes), for changes between parts."""


def local(fn: Callable[[Bench], None]) -> Callable[[Bench], None]:
    """Register a local-file case under its function name."""
    LOCAL[fn.__name__.removeprefix("case_").replace("_", "-")] = fn
    return fn


def _refused(bench: Bench, case: str, result: Result, code: int, *needles: str) -> str:
    assert result.code == code, (result.code, result.err)
    line = one_line(result.err, *needles)
    bench.note(case, result.code, line)
    return line


def _upload(bench: Bench, *paths: Path | str, config: Path | None = None) -> Result:
    args = ("upload", *paths, "--account", "sandbox-s3", "--json", "--part-size", "5MiB")
    return bench.cli(*args, config=config)


@local
def case_symlink_to_file(bench: Bench) -> None:
    target = bench.file("bi-real-target.bin", 3000, seed=1)
    link = target.with_name("bi-the-link.bin")
    link.symlink_to(target)
    result = _upload(bench, link)
    assert result.code == 0, result.err
    assert_landed(bench, result.summary["session"], target, "bi-the-link.bin")


@local
def case_dangling_symlink(bench: Bench) -> None:
    link = bench.tmp / "bi-dangling.bin"
    link.symlink_to(bench.tmp / "nowhere")
    _refused(bench, "dangling-symlink", _upload(bench, link), 2, "no such file; check the path")


@local
def case_symlink_loop(bench: Bench) -> None:
    a, b = bench.tmp / "loop-a", bench.tmp / "loop-b"
    a.symlink_to(b)
    b.symlink_to(a)
    _refused(bench, "symlink-loop", _upload(bench, a), 2, "Too many levels of symbolic links")


@local
def case_symlink_to_fifo(bench: Bench) -> None:
    fifo = bench.tmp / "pipe"
    os.mkfifo(fifo)
    link = bench.tmp / "bi-pipe-link.bin"
    link.symlink_to(fifo)
    _refused(bench, "symlink-to-fifo", _upload(bench, link), 2, "is not a regular file")


@local
def case_dev_null(bench: Bench) -> None:
    _refused(bench, "dev-null", _upload(bench, "/dev/null"), 2, "/dev/null is not a regular")


@local
def case_dev_zero(bench: Bench) -> None:
    _refused(bench, "dev-zero", _upload(bench, "/dev/zero"), 2, "/dev/zero is not a regular")


@local
def case_symlink_to_directory(bench: Bench) -> None:
    link = bench.tmp / "bi-dir-link"
    link.symlink_to(bench.tmp)
    _refused(bench, "symlink-to-directory", _upload(bench, link), 2, "is a directory")


@local
def case_path_through_a_file(bench: Bench) -> None:
    plain = bench.file("bi-plain.bin", 10)
    result = _upload(bench, plain / "inner.bin")
    _refused(bench, "path-through-a-file", result, 2, "Not a directory")


@local
def case_missing_file_with_terminal_escapes(bench: Bench) -> None:
    gone = bench.tmp / "\x1b[2J\x1b[Hgone.bin"
    # PartdeckError turns controls in its message into spaces before any output sees it.
    _refused(bench, "missing-escape-name", _upload(bench, gone), 2, " [2J [Hgone.bin: no such")


@local
def case_empty_file(bench: Bench) -> None:
    empty = bench.file("bi-empty.bin", 0)
    result = _upload(bench, empty)
    assert result.code == 0, result.err
    assert_landed(bench, result.summary["session"], empty, "bi-empty.bin")


@local
def case_same_file_twice(bench: Bench) -> None:
    path = bench.file("bi-twice.bin", 4000, seed=2)
    result = _upload(bench, path, path)
    assert result.code == 0, result.err
    for line in result.json_lines()[-2:]:
        assert_landed(bench, line["session"], path, "bi-twice.bin")


def _during(
    bench: Bench, case: str, when: Callable[[Event], bool], change: Callable[[Path], None]
) -> tuple[Path, Result]:
    """Upload three parts one at a time and ``change`` the file at the first ``when``."""
    path = bench.file(f"bi-{case}.bin", THREE_PARTS, seed=4)
    with bench.on_event(when, lambda: change(path)):
        result = _upload(bench, path, config=bench.serial_config())
    return path, result


def _part(number: int, state: str) -> Callable[[Event], bool]:
    return lambda e: e.kind == "part" and e.part == number and str(e.state) == state


def _shrink(path: Path) -> None:
    os.truncate(path, 6 * MiB)


def _grow(path: Path) -> None:
    with path.open("ab") as f:
        f.write(b"more")


def _rewrite(path: Path, at: int = -3) -> None:
    """Change three bytes in place (the size stays, the modification time moves on)."""
    data = bytearray(path.read_bytes())
    data[at : at + 3 or None] = b"new"
    path.write_bytes(bytes(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))


def _changed_during(bench: Bench, case: str, change: Callable[[Path], None], *needles: str) -> None:
    _, result = _during(bench, case, _part(1, "verified"), change)
    _refused(bench, case, result, 1, "local-changed", *needles)
    session = bench.new_session()
    assert session.state == "local-changed"
    assert bench.verified(session.id) == {1}, "the verified part 1 was not kept"


@local
def case_shrinks_during_upload(bench: Bench) -> None:
    _changed_during(bench, "shrinks-during-upload", _shrink, "start a new upload")


@local
def case_grows_during_upload(bench: Bench) -> None:
    _changed_during(bench, "grows-during-upload", _grow, "start a new upload")


@local
def case_vanishes_during_upload(bench: Bench) -> None:
    _changed_during(bench, "vanishes-during-upload", os.unlink, "no such file")


@local
def case_rewritten_during_upload(bench: Bench) -> None:
    _changed_during(bench, "rewritten-during-upload", _rewrite, "changed while it was being")


@local
def case_shrinks_while_a_part_is_sent(bench: Bench) -> None:
    _, result = _during(
        bench, "shrinks-mid-part", _part(2, "uploading"), lambda p: os.truncate(p, 5 * MiB + 100)
    )
    _refused(bench, "shrinks-mid-part", result, 1, "local-changed", "start a new upload")
    session = bench.new_session()
    assert bench.verified(session.id) == {1}


@local
def case_one_file_of_a_batch_vanishes(bench: Bench) -> None:
    files = [bench.file(f"bi-batch-{n}.bin", THREE_PARTS, seed=n) for n in (5, 6)]
    first: list[str] = []  # the session whose part was verified first: its file goes

    def first_verified(event: Event) -> bool:
        if event.kind == "part" and str(event.state) == "verified":
            first.append(event.session_id)
            return True
        return False

    def vanish() -> None:
        os.unlink(bench.session(first[0]).path)

    with bench.on_event(first_verified, vanish):
        result = _upload(bench, *files, config=bench.serial_config())
    gone = Path(bench.session(first[0]).path)
    _refused(bench, "batch-one-vanishes", result, 1, gone.name, "no such file")
    summaries = {line["path"]: line for line in result.json_lines() if line["event"] == "summary"}
    assert summaries[str(gone)]["state"] == "local-changed"
    assert bench.verified(first[0]) == {1}
    (kept,) = [f for f in files if f != gone]
    assert_landed(bench, summaries[str(kept)]["session"], kept, kept.name)


def _paused(bench: Bench, case: str) -> tuple[Path, Session, Path]:
    """A session interrupted (^C) once part 1 is verified: (file, session, config)."""
    path = bench.file(f"bi-{case}.bin", THREE_PARTS, seed=8)
    config = bench.serial_config()
    with bench.on_event(_part(1, "verified"), lambda: os.kill(os.getpid(), signal.SIGINT)):
        result = _upload(bench, path, config=config)
    assert result.code == 130, result.err
    one_line(result.err, "interrupted", "partdeck resume")
    session = bench.new_session()
    assert session.state == "paused", session.state
    assert bench.verified(session.id) == {1}
    return path, session, config


def _changed_while_paused(
    bench: Bench, case: str, change: Callable[[Path], None], *needles: str
) -> None:
    path, session, config = _paused(bench, case)
    change(path)
    result = bench.cli("resume", session.id[:8], "--json", config=config)
    _refused(bench, case, result, 1, "local-changed", *needles)
    assert bench.session(session.id).state == "local-changed"
    assert bench.verified(session.id) == {1}, "the verified part 1 was not kept"


@local
def case_shrinks_while_paused(bench: Bench) -> None:
    _changed_while_paused(bench, "shrinks-while-paused", _shrink, "size is now 6,291,456")


@local
def case_grows_while_paused(bench: Bench) -> None:
    _changed_while_paused(bench, "grows-while-paused", _grow, "start a new upload")


@local
def case_sent_part_rewritten_while_paused(bench: Bench) -> None:
    _changed_while_paused(
        bench, "sent-part-rewritten", lambda p: _rewrite(p, 10), "part(s) 1 no longer match"
    )


@local
def case_unsent_part_rewritten_while_paused(bench: Bench) -> None:
    # Legal: what was sent still matches, so the rest goes as the file is now.
    path, session, config = _paused(bench, "unsent-part-rewritten")
    _rewrite(path)
    result = bench.cli("resume", session.id[:8], "--json", config=config)
    assert result.code == 0, result.err
    assert_landed(bench, session.id, path, path.name)


@local
def case_deleted_while_paused(bench: Bench) -> None:
    _changed_while_paused(bench, "deleted-while-paused", os.unlink, "no such file")


@local
def case_replaced_by_directory_while_paused(bench: Bench) -> None:
    def to_directory(path: Path) -> None:
        path.unlink()
        path.mkdir()

    _changed_while_paused(bench, "directory-while-paused", to_directory, "is a directory")


@local
def case_replaced_by_fifo_while_paused(bench: Bench) -> None:
    def to_fifo(path: Path) -> None:
        path.unlink()
        os.mkfifo(path)

    _changed_while_paused(bench, "fifo-while-paused", to_fifo, "is not a regular file")


@local
def case_shrinks_after_a_crash(bench: Bench) -> None:
    path = bench.file("bi-crashed.bin", THREE_PARTS, seed=10)
    config = bench.world.write_config(
        bench.tmp / "slow.toml", {**ENGINE, "parts_per_session": 1, "bandwidth_limit": "20MiB"}
    )
    state = bench.tmp / "crash-state"  # its own: the helper watches the journal's first session
    argv = [sys.executable, "-m", "tui", "upload", str(path), "--account", "sandbox-s3"]
    argv += ["--part-size", "5MiB", "--config", str(config), "--state-dir", str(state)]
    session_id, verified = kill_once_verified(argv, state)
    assert verified, "nothing was verified before the kill"
    _shrink(path)
    result = bench.cli("resume", session_id[:8], "--json", config=config, state_dir=state)
    _refused(bench, "shrinks-after-crash", result, 1, "local-changed", "size is now")
    journal = Journal.open(state)
    try:
        assert journal.integrity_check() == "ok"
        parts = journal.parts(session_id)
    finally:
        journal.close()
    assert {p.number for p in parts if p.state == "verified"} == verified
    assert not [p.number for p in parts if p.state in IN_FLIGHT]


@local
def case_touched_while_paused(bench: Bench) -> None:
    path, session, config = _paused(bench, "touched-while-paused")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    result = bench.cli("resume", session.id[:8], "--json", config=config)
    assert result.code == 0, result.err
    assert_landed(bench, session.id, path, path.name)


@local
def case_restored_after_local_changed(bench: Bench) -> None:
    path, session, config = _paused(bench, "restored")
    original = path.read_bytes()
    _shrink(path)
    changed = bench.cli("resume", session.id[:8], "--json", config=config)
    _refused(bench, "restored", changed, 1, "local-changed")
    path.write_bytes(original)
    verified = bench.cli("verify", session.id[:8], "--json", config=config)
    assert verified.code == 0, verified.err
    assert bench.session(session.id).state == "paused"
    resumed = bench.cli("resume", session.id[:8], "--json", config=config)
    assert resumed.code == 0, resumed.err
    assert_landed(bench, session.id, path, path.name)


# -- rights: root reads every file, so the child gives that power up ------------------------


def _without_file_rights() -> Callable[[], None] | None:
    """A preexec_fn that drops root's power to read and write any file (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH) from the bounding set, so the exec'd partdeck is bound by file
    modes like any user; None when not root (the modes bind already)."""
    if os.geteuid() != 0:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_capbset_drop, dac_override, dac_read_search = 24, 1, 2

    def drop() -> None:
        for cap in (dac_override, dac_read_search):
            if prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


@local
def case_file_permission_denied(bench: Bench) -> None:
    path = bench.file("bi-private.bin", 1000)
    path.chmod(0o000)
    result = bench.child("upload", path, "--account", "sandbox-s3", preexec=_without_file_rights())
    _refused(bench, "file-permission-denied", result, 2, "permission denied; make it readable")


@local
def case_file_unreadable_at_resume(bench: Bench) -> None:
    path, session, config = _paused(bench, "unreadable-at-resume")
    path.chmod(0o000)
    result = bench.child("resume", session.id[:8], config=config, preexec=_without_file_rights())
    _refused(bench, "unreadable-at-resume", result, 1, "permission denied")
    assert bench.verified(session.id) == {1}
    path.chmod(0o600)


@local
def case_config_permission_denied(bench: Bench) -> None:
    path = bench.file("bi-config-denied.bin", 1000)
    bench.config.chmod(0o000)
    args = ("upload", path, "--account", "sandbox-s3")
    result = bench.child(*args, preexec=_without_file_rights())
    bench.config.chmod(0o600)
    _refused(bench, "config-permission-denied", result, 2, "permission denied", "chmod 600")


@local
def case_state_dir_read_only(bench: Bench) -> None:
    path = bench.file("bi-readonly-state.bin", 1000)
    bench.state_dir.chmod(0o500)
    try:
        result = bench.child(
            "upload", path, "--account", "sandbox-s3", preexec=_without_file_rights()
        )
    finally:
        bench.state_dir.chmod(0o700)
    _refused(bench, "state-dir-read-only", result, 1, "journal", "--state-dir")


# -- the journal and its disk ---------------------------------------------------------------


def _file_limit(size: int) -> Callable[[], None]:
    """A preexec_fn that lets the child write files up to ``size`` bytes (Python ignores
    SIGXFSZ, so a longer write fails with EFBIG, as on a full disk)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@local
def case_disk_full_before_the_journal(bench: Bench) -> None:
    fresh = bench.tmp / "fresh-state"
    path = bench.file("bi-disk-full-open.bin", 1000)
    args = ("upload", path, "--account", "sandbox-s3")
    result = bench.child(*args, state_dir=fresh, preexec=_file_limit(0))
    _refused(bench, "disk-full-at-open", result, 1, "journal", "cannot be opened")
    journal = Journal.open(fresh)
    try:
        assert journal.integrity_check() == "ok"
        assert journal.sessions() == []
    finally:
        journal.close()


@local
def case_disk_full_during_upload(bench: Bench) -> None:
    path = bench.file("bi-disk-full.bin", THREE_PARTS, seed=9)
    config = bench.serial_config()
    args = ("upload", path, "--account", "sandbox-s3", "--json", "--part-size", "5MiB")
    result = bench.child(*args, config=config, preexec=_file_limit(150_000))
    _refused(bench, "disk-full-mid-upload", result, 1, "write failed", "free disk space")
    journal = bench.journal()
    try:
        assert journal.integrity_check() == "ok"
    finally:
        journal.close()
    session = bench.new_session()
    resumed = bench.cli("resume", session.id[:8], "--json", config=config)
    assert resumed.code == 0, resumed.err
    assert_landed(bench, session.id, path, path.name)


@local
def case_state_dir_is_a_file(bench: Bench) -> None:
    plain = bench.file("bi-not-a-dir", 10)
    result = bench.cli("sessions", state_dir=plain)
    _refused(bench, "state-dir-is-a-file", result, 1, "state directory", "--state-dir")


@local
def case_journal_is_garbage(bench: Bench) -> None:
    state = bench.tmp / "garbage-state"
    state.mkdir()
    garbage = bytes(range(256)) * 64
    (state / Journal.FILENAME).write_bytes(garbage)
    path = bench.file("bi-garbage-journal.bin", 1000)
    result = bench.cli("upload", path, "--account", "sandbox-s3", state_dir=state)
    _refused(bench, "journal-is-garbage", result, 1, "journal", "file is not a database")
    assert (state / Journal.FILENAME).read_bytes() == garbage, "the journal was overwritten"


@local
def case_journal_is_a_directory(bench: Bench) -> None:
    state = bench.tmp / "dir-state"
    (state / Journal.FILENAME).mkdir(parents=True)
    result = bench.cli("sessions", state_dir=state)
    _refused(bench, "journal-is-a-directory", result, 1, "journal", "cannot be opened")


@local
def case_journal_cut_in_half(bench: Bench) -> None:
    state = bench.tmp / "cut-state"
    shutil.copytree(bench.state_dir, state)
    journal = state / Journal.FILENAME
    data = journal.read_bytes()
    journal.write_bytes(data[: len(data) // 2])
    result = bench.cli("sessions", state_dir=state)
    _refused(bench, "journal-cut-in-half", result, 1, "journal")
    assert journal.read_bytes() == data[: len(data) // 2], "the journal was changed"


@pytest.mark.parametrize("case", list(LOCAL))
def test_local(bench: Bench, case: str) -> None:
    bench.proof.tally.add(SUITE, "local files")
    LOCAL[case](bench)


# == 5. what people see: hostile names, bad sizes, closed pipes ============================


def _tty_child(bench: Bench, *args: str | os.PathLike[str]) -> tuple[int, str]:
    """Run ``partdeck ARGS`` with stdout on a pseudo-terminal (the live progress line)."""
    import pty

    master, slave = pty.openpty()
    argv = [sys.executable, "-m", "tui", *map(str, args)]
    argv += ["--config", str(bench.config), "--state-dir", str(bench.state_dir)]
    child = subprocess.Popen(argv, stdout=slave, stderr=subprocess.STDOUT, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return child.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def _clean(case: str, what: str, text: str, *, live: bool = False) -> None:
    hidden = hidden_characters(text, live=live)
    assert not hidden, f"{case}: {what} shows {hidden} raw: {text[:300]!r}"


def _every_output(bench: Bench, case: str, name: str, *, child: bool) -> None:
    """Upload ``name`` (lands on Fileflare; S3 may refuse such a key) and read every human
    output: upload's lines, stderr, sessions, show, inspect. None holds a raw control, the
    name shows escaped, one session is one line, and --json keeps the name exact."""
    run = bench.child if child else bench.cli
    path = bench.file(name, 2000, seed=11)
    shown = visible(path.name)
    plain = run("upload", path, "--account", "sandbox-fileflare")
    assert plain.code == 0, plain.err
    _clean(case, "upload", plain.out + plain.err)
    assert f"{shown}: completed" in plain.out
    failing = run("upload", path, "--account", "sandbox-s3", "--json")
    _clean(case, "stderr of an upload", failing.err)
    listed = run("sessions")
    assert listed.code == 0, listed.err
    _clean(case, "sessions", listed.out)
    ours = [line for line in listed.out.splitlines() if line.endswith(shown)]
    assert len(ours) == 2, listed.out  # one line per session: no name splits one
    exact = [json.loads(x) for x in run("sessions", "--json").out.splitlines()]
    made = [s for s in exact if s["session"] not in bench.seeded]
    assert [s["path"] for s in made] == [str(path)] * 2
    for s in made:
        for command in ("show", "inspect"):
            result = run(command, s["session"][:8])
            assert result.code == 0, result.err
            _clean(case, command, result.out + result.err)
            assert shown in result.out
        as_json = run("show", s["session"][:8], "--json")
        assert json.loads(as_json.out.splitlines()[0])["path"] == str(path)


@pytest.mark.parametrize("case", list(HOSTILE_NAMES))
def test_hostile_name_in_every_output(bench: Bench, case: str) -> None:
    bench.proof.tally.add(SUITE, "hostile names shown")
    _every_output(bench, case, HOSTILE_NAMES[case], child=False)


def test_hostile_name_through_real_processes(bench: Bench) -> None:
    """Every hostile character in one name, each command a real process; and the live
    progress line on a real pseudo-terminal."""
    bench.proof.tally.add(SUITE, "hostile names shown")
    name = "".join(HOSTILE_NAMES.values())
    _every_output(bench, "all-in-one", name, child=True)
    path = bench.file(name, 3 * MiB, seed=12)
    code, screen = _tty_child(bench, "upload", path, "--account", "sandbox-fileflare")
    assert code == 0, screen
    _clean("all-in-one", "the live line", screen, live=True)
    assert f"{visible(path.name)}: completed" in screen


_BAD_SIZES = ["0", "-5", "lots", "1.5", "٣", "99999999999999999999999TiB"]
_OPTIONS = [  # command, option, the setting whose bounds it meets
    ("upload", "--part-size", "part_size"),
    ("upload", "--parts-in-flight", "parts_in_flight"),
    ("upload", "--bandwidth-limit", "bandwidth_limit"),
    ("resume", "--bandwidth-limit", "bandwidth_limit"),
    ("retry", "--bandwidth-limit", "bandwidth_limit"),
    ("retry", "PART", "part"),
]


@pytest.mark.parametrize(("command", "option"), [(c, o) for c, o, _ in _OPTIONS])
def test_bad_size_on_the_command_line(bench: Bench, command: str, option: str) -> None:
    """Every size and count option refuses what its config key refuses, in one line that
    names the option and shows a good value; nothing starts."""
    bench.proof.tally.add(SUITE, "bad sizes on the command line")
    path = bench.file("bi-sizes.bin", 1000)
    session = next(iter(bench.seeded))[:8]
    head = {"upload": ["upload", str(path), "--account", "sandbox-s3"]}.get(
        command, [command, session]
    )
    for value in _BAD_SIZES:
        argv = [*head, value] if option == "PART" else [*head, f"{option}={value}"]
        result = bench.cli(*argv)
        line = _refused(bench, f"{command} {option}={value}", result, 2, f"{option} must be")
        assert "e.g. " in line
    journal = bench.journal()
    try:
        assert [s.id for s in journal.sessions() if s.id not in bench.seeded] == []
    finally:
        journal.close()


@pytest.mark.parametrize("provider", ["s3", "fileflare", "gumroad", "polar", "wunderlist"])
def test_closed_pipe_never_stops_an_upload(bench: Bench, provider: str) -> None:
    """stdout's reader gone before the first line, stderr too: the upload ends completed,
    exit 0, and the provider holds the file."""
    bench.proof.tally.add(SUITE, "closed pipes")
    path = bench.file(f"bi-pipe-{provider}.bin", 6 * MiB + 1, seed=5)
    argv = [sys.executable, "-m", "tui", "upload", str(path), "--account", f"sandbox-{provider}"]
    argv += ["--json", "--config", str(bench.config), "--state-dir", str(bench.state_dir)]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        code = subprocess.run(argv, stdout=write_end, stderr=write_end, timeout=120).returncode
    finally:
        os.close(write_end)
    assert code == 0
    session = bench.new_session()
    assert_landed(bench, session.id, path, path.name)
