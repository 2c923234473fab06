"""Secrets suite: tokens, keys and URL signatures never reach what people or logs see.

1. Leaks. Real uploads on every provider (the ``world`` sandbox, over sockets, with part
   faults so errors are written) through the real ``partdeck`` command line, then every
   emulator told to expect another token (401s) and S3 signed with a wrong key (403s);
   the read-only commands on every session; an internal error forced under a command and
   under the app. The secrets searched for are the ones that exist: each emulator's
   token, the S3 secret key, every signature the S3 gateways were shown, the secret query
   values of every link the journal keeps for resume. The places: the journal (event log,
   and every column but ``remote`` of sessions and parts, since errors reach the screen),
   ``partdeck.log``, stdout (``--json`` and text) and stderr of every run, ``str()`` of
   what the providers raise (against the sandbox, and against a server that echoes every
   secret it is sent into its 4xx, 500 and garbage answers), the real app's
   screens (sessions of every provider, each session's parts with their URL expiry, the
   inspect view, the account picker with good and refused tokens) and the committed
   snapshot SVGs. Each value is searched literally and by slices, and every place also
   for secret shapes (``X-Amz-Signature=`` hex, ``Bearer`` token, ``aws_secret_access_key``).
2. An inline secret in a config readable by group or others: one warning line (CLI
   stderr, app notification) naming the file and ``chmod 600``; none at 0600 or for a
   secret held in a file or an environment variable.
3. File modes under umask 000: state dir 0700; journal, -wal, -shm, locks, partdeck.log,
   the sandbox's secret files 0600.
4. TLS: a self-signed HTTPS endpoint on 127.0.0.1 fails with one certificate line; with
   the account's ``verify_tls = false`` it works, part PUTs included, while another
   account on the same engine still checks; the opt-out for a remote host is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import io
import ipaddress
import json
import os
import re
import secrets
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from textual.pilot import Pilot

from tests.integration.conftest import make_file
from tests.support.leaks import Leaks, echo_server, svg_text
from tests.support.moto import MotoServer
from tests.support.proof import Proof
from tests.support.services import kill_services
from tests.ui.conftest import notices, until
from tui import cli
from tui.config import load_config, parse_config
from tui.core.engine import Engine
from tui.core.errors import ConfigError, PartdeckError
from tui.core.journal import Journal
from tui.core.model import SessionState
from tui.core.transfer import make_client
from tui.providers.registry import make_provider
from tui.providers.s3 import S3Provider
from tui.runtime import ProviderCache, open_engine
from tui.sandbox.faults import FaultSpec
from tui.sandbox.runner import ACCESS_KEY, PROFILE, Sandbox
from tui.sandbox.s3gateway import create_gateway
from tui.sandbox.serve import free_port
from tui.service.client import ServiceClient
from tui.ui.app import PartdeckApp
from tui.ui.screens.accounts import AccountPickerScreen
from tui.ui.screens.inspect import InspectScreen
from tui.ui.widgets.parts_view import PartsView
from tui.ui.widgets.sessions_table import SessionsTable

SUITE = "secrets"
MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
ENGINE: dict[str, Any] = {"parts_in_flight": 8, "parts_per_session": 4, "retries": 1}
EMULATED = ("gumroad", "polar", "box", "fileflare", "wunderlist")

ROUND: dict[str, tuple[int, FaultSpec]] = {
    "s3": (11 * MiB, FaultSpec(expire_early=1.0, parts=(2,), limit=1)),  # renewed, completes
    "wunderlist": (11 * MiB, FaultSpec(part_500=1.0, parts=(1,), limit=1)),  # retried
    "box": (21 * MiB, FaultSpec(part_500=1.0, parts=(2,), limit=1)),  # asked, sent again
    "gumroad": (3 * MiB, FaultSpec(part_500=1.0)),  # fails: its minted link stays journaled
    "polar": (3 * MiB, FaultSpec(expire_early=1.0)),  # refused as expired, not renewable
    "fileflare": (3 * MiB, FaultSpec(corrupt_etag=1.0)),  # a wrong ETag is never verified
}
"""Per provider: the file size and the faults of the first round of uploads."""
CLIENT_PART_SIZE = ("s3", "wunderlist")
"""Providers whose part size the client picks (``--part-size 5MiB`` gives three parts)."""


# -- plumbing ----------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTDECK_", "TEXTUAL"))}
    # This suite searches in-process engines' output; tests/service searches the service's.
    env["PARTDECK_SERVICE"] = "inline"
    env.update(extra)
    return env


def _partdeck(
    *args: str,
    env: dict[str, str] | None = None,
    umask: int | None = None,
    stdin: int | None = None,
) -> subprocess.Popen[str]:
    """Start the real ``partdeck`` console script; ``communicate()`` it later."""
    binary = Path(sys.executable).with_name("partdeck")
    return subprocess.Popen(
        [str(binary), *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or _env(),
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


@dataclass
class Run:
    """One finished command: what it printed and how it ended."""

    label: str
    code: int
    out: str
    err: str


def _finish(label: str, proc: subprocess.Popen[str], timeout: float = 60) -> Run:
    out, err = proc.communicate(timeout=timeout)
    return Run(label, proc.returncode, out, err)


def _search_run(leaks: Leaks, run: Run) -> None:
    leaks.search(f"stdout of {run.label}", run.out)
    leaks.search(f"stderr of {run.label}", run.err)


def _harvest_sandbox(leaks: Leaks, world: Sandbox) -> None:
    """The sandbox's own secrets: tokens, the S3 key, every signature its gateways saw."""
    for provider, ctx in world.contexts.items():
        leaks.add(f"{provider} token", ctx.token)
        leaks.add(f"{provider} OAuth client secret", ctx.client_secret)
        leaks.add(f"{provider} sign-in code", ctx.sign_in_code)
        leaks.add_many(f"{provider} OAuth token", ctx.issued)
    for name in ("box-private-key.pem", "box-key-passphrase"):
        path = world.root / "tokens" / name
        if path.exists():
            lines = [x for x in path.read_text().splitlines() if x and not x.startswith("-----")]
            leaks.add(f"Box JWT {name}", "".join(lines))  # a PEM without its -----BEGIN
    leaks.add("S3 secret key", world.secret_key)
    for provider, faults in world.fault_state.items():
        leaks.add_many(f"{provider} request signature", set(faults.signatures))


def _search_journal(leaks: Leaks, state_dir: Path, label: str) -> tuple[int, int]:
    """Harvest the link secrets of ``remote``; search everything else.

    Returns (sessions, secret link values) found in the journal.
    """
    db = sqlite3.connect(f"file:{state_dir / Journal.FILENAME}?mode=ro", uri=True)
    try:
        sessions = db.execute("SELECT * FROM sessions").fetchall()
        names = [d[0] for d in db.execute("SELECT * FROM sessions").description]
        links = sum(
            leaks.add_link_secrets(f"journaled {row[names.index('provider')]}", row)
            for row in sessions
        )
        shown = [
            json.dumps([v for n, v in zip(names, row, strict=True) if n != "remote"])
            for row in sessions
        ]
        leaks.search(f"journal sessions, every column but remote ({label})", "\n".join(shown))
        errors = [r[0] for r in db.execute("SELECT error FROM sessions WHERE error IS NOT NULL")]
        leaks.search(f"journal sessions.error ({label})", "\n".join(errors))
        parts = db.execute("SELECT * FROM parts").fetchall()
        leaks.search(f"journal parts, every column ({label})", json.dumps(parts))
        part_errors = [r[0] for r in db.execute("SELECT error FROM parts WHERE error IS NOT NULL")]
        leaks.search(f"journal parts.error ({label})", "\n".join(part_errors))
        events = db.execute("SELECT kind, state, part, message, data FROM events").fetchall()
        leaks.search(f"journal event log ({label})", json.dumps(events))
        return len(sessions), links
    finally:
        db.close()


@contextlib.contextmanager
def _other_tokens(world: Sandbox, leaks: Leaks) -> Iterator[None]:
    """Every emulator expects a new token for a while: the accounts' tokens get 401s."""
    before = {p: ctx.token for p, ctx in world.contexts.items()}
    try:
        for provider, ctx in world.contexts.items():
            ctx.token = f"sandbox-{provider}-{secrets.token_urlsafe(18)}"
            leaks.add(f"{provider} token the server expects instead", ctx.token)
        yield
    finally:
        for provider, token in before.items():
            world.contexts[provider].token = token


def _reset_faults(world: Sandbox, leaks: Leaks) -> None:
    """Keep the signatures seen so far, then clear every fault (``world`` is shared)."""
    _harvest_sandbox(leaks, world)
    for faults in world.fault_state.values():
        faults.reset(FaultSpec())


# -- the uploads every leak test reads ---------------------------------------------------


@pytest.fixture(scope="module")
def leaks() -> Leaks:
    """Every secret harvested and every place searched by this module."""
    return Leaks()


@dataclass
class Deck:
    """The state dir, config and files the rounds of uploads left behind."""

    root: Path
    config: Path
    files: dict[str, Path] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.root / "state"

    def args(self, *args: str) -> list[str]:
        """``args`` for this deck's config and state dir."""
        return [*args, "--config", str(self.config), "--state-dir", str(self.state)]


def _wrong_key_config(deck: Deck, world: Sandbox, leaks: Leaks) -> Path:
    """The sandbox S3 account, signing with a wrong secret key."""
    wrong = secrets.token_urlsafe(30)
    leaks.add("a wrong S3 secret key", wrong)
    creds = deck.root / "wrong-credentials"
    creds.write_text(
        f"[{PROFILE}]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {wrong}\n"
    )
    creds.chmod(0o600)
    table = world.account_tables()["sandbox-s3"]
    lines = ["[accounts.sandbox-s3]"] + [
        f"{k} = {json.dumps(str(creds) if k == 'credentials_file' else v)}"
        for k, v in table.items()
    ]
    path = deck.root / "wrong-key.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def deck(world: Sandbox, leaks: Leaks, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deck]:
    """Uploads on every provider through the real CLI: under faults, then refused."""
    root = tmp_path_factory.mktemp("secrets")
    config = world.write_config(root / "config.toml", ENGINE)
    deck = Deck(root, config)
    (root / "files").mkdir()
    for provider, (size, _) in ROUND.items():
        deck.files[provider] = make_file(root / "files" / f"{provider}.bin", size, seed=size)
    try:
        # Round 1: every provider at once, each with its own part faults.
        for provider, (_, spec) in ROUND.items():
            world.fault_state[provider].reset(spec)
        procs = {}
        for provider in ROUND:
            extra = ["--part-size", "5MiB"] if provider in CLIENT_PART_SIZE else []
            args = ["upload", str(deck.files[provider]), "--account", f"sandbox-{provider}"]
            procs[f"upload {provider} --json"] = _partdeck(*deck.args(*args, *extra, "--json"))
        deck.runs += [_finish(label, proc) for label, proc in procs.items()]
        _reset_faults(world, leaks)
        # Round 2: the tokens are refused (401) and S3 is signed with a wrong key (403).
        wrong = _wrong_key_config(deck, world, leaks)
        with _other_tokens(world, leaks):
            procs = {}
            for provider in EMULATED:
                args = ["upload", str(deck.files[provider]), "--account", f"sandbox-{provider}"]
                procs[f"upload {provider}, token refused"] = _partdeck(*deck.args(*args))
            procs["upload s3, wrong key --json"] = _partdeck(
                "upload", str(deck.files["s3"]), "--account", "sandbox-s3", "--json",
                "--part-size", "5MiB", "--config", str(wrong), "--state-dir", str(deck.state),
            )  # fmt: skip
            deck.runs += [_finish(label, proc) for label, proc in procs.items()]
        deck.runs += _box_sign_ins(deck, world)
        _harvest_sandbox(leaks, world)
        yield deck
    finally:
        for provider in ROUND:
            world.fault_state[provider].reset(FaultSpec())


def _box_sign_ins(deck: Deck, world: Sandbox) -> list[Run]:
    """Round 3, Box's signed-in accounts with tokens that live a second: a sign-in, an
    upload by it and one by client credentials (each renewing its tokens), then an
    upload after the sign-in was revoked (invalid_grant) and a sign-in with a bad code."""
    box = world.contexts["box"]
    world.fault_state["box"].reset(FaultSpec(token_ttl=1.0))
    runs = []
    sign_in = _partdeck(*deck.args("auth", "sandbox-box-oauth"), stdin=subprocess.PIPE)
    out, err = sign_in.communicate(box.sign_in_code + "\n", timeout=60)
    runs.append(Run("auth sandbox-box-oauth", sign_in.returncode, out, err))
    assert sign_in.returncode == 0, err
    for account in ("sandbox-box-oauth", "sandbox-box-ccg", "sandbox-box-jwt"):
        path = deck.files["box"].with_name(f"{account}.bin")
        path.write_bytes(deck.files["box"].read_bytes())
        upload = _partdeck(*deck.args("upload", str(path), "--account", account, "--json"))
        runs.append(_finish(f"upload {account} --json", upload))
    for _ in range(2):  # the refresh token now stored, and the one it rotates to
        stored = json.loads((deck.state / "tokens.json").read_text())["accounts"]
        form = {
            "client_id": box.client_id,
            "client_secret": box.client_secret,
            "token": stored["sandbox-box-oauth"]["refresh_token"],
        }
        httpx.post(f"{box.public_url}/oauth2/revoke", data=form)
    time.sleep(1.0)  # the access token runs out too
    revoked = deck.files["box"].with_name("revoked.bin")
    revoked.write_bytes(deck.files["box"].read_bytes())
    upload = _partdeck(*deck.args("upload", str(revoked), "--account", "sandbox-box-oauth"))
    runs.append(_finish("upload sandbox-box-oauth, sign-in revoked", upload))
    assert runs[-1].code == 1 and "sign in again with partdeck auth" in runs[-1].err
    bad = _partdeck(*deck.args("auth", "sandbox-box-oauth"), stdin=subprocess.PIPE)
    out, err = bad.communicate("not-the-code\n", timeout=60)
    runs.append(Run("auth sandbox-box-oauth, a bad code", bad.returncode, out, err))
    world.fault_state["box"].reset(FaultSpec())
    return runs


def _main(capsys: pytest.CaptureFixture[str], label: str, *args: str) -> Run:
    """``partdeck ARGS`` in this process (the same ``main``), its output captured."""
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return Run(label, code, out, err)


# -- 1. leaks ----------------------------------------------------------------------------


def test_uploads_failed_and_completed_as_planned(deck: Deck) -> None:
    """The rounds did what they were meant to, so there are errors to search: three
    uploads completed through their faults, three failed on them, six were refused."""
    journal = Journal.open(deck.state)
    try:
        states: dict[str, set[SessionState]] = {}
        for s in journal.sessions():
            states.setdefault(s.provider, set()).add(s.state)
        said = " ".join(
            f"{e.message} {e.data}" for s in journal.sessions() for e in journal.events(s.id)
        )
    finally:
        journal.close()
    assert all(SessionState.COMPLETED in states[p] for p in ("s3", "wunderlist", "box")), states
    assert all(states[p] == {SessionState.FAILED} for p in ("gumroad", "polar", "fileflare"))
    for what in ("500", "expired", "ETag", "401", "SignatureDoesNotMatch"):
        assert what in said, (what, said[:2000])
    refused = [r for r in deck.runs if "refused" in r.label or "wrong key" in r.label]
    assert len(refused) == 6 and all(r.code != 0 for r in refused), [
        (r.label, r.code, r.err) for r in refused
    ]


def test_cli_journal_and_log_hold_no_secret(
    deck: Deck,
    leaks: Leaks,
    world: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--json and text output, stderr, the journal and partdeck.log: no token, no signature."""
    start = len(leaks.found)
    journal = Journal.open(deck.state)
    try:
        sessions = journal.sessions()
    finally:
        journal.close()
    runs = list(deck.runs)
    runs.append(_main(capsys, "sessions --json", *deck.args("sessions", "--json")))
    runs.append(_main(capsys, "sessions", *deck.args("sessions")))
    for s in sessions:
        for command in ("show", "inspect"):
            for flag in ("--json", None):
                label = f"{command} {s.provider} {s.state}" + (f" {flag}" if flag else "")
                args = [command, s.id[:12], *([flag] if flag else [])]
                runs.append(_main(capsys, label, *deck.args(*args)))
    runs.append(
        _main(capsys, "remote --json", *deck.args("remote", "--account", "sandbox-s3", "--json"))
    )

    # An internal error under a command, its message full of what a request carries.
    link = _a_signed_link(deck.state)
    token = world.contexts["gumroad"].token
    boom = (
        f"PUT {link} failed; headers {{'Authorization': 'Bearer {token}', "
        f"'X-Access-Token': '{world.contexts['wunderlist'].token}'}}; "
        f"Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/x, "
        f"Signature={next(iter(sorted(world.fault_state['s3'].signatures or {'0' * 64})))}"
    )

    async def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError(boom)

    monkeypatch.setattr(Engine, "inspect", broken)
    bug = _main(capsys, "inspect, internal error", *deck.args("inspect", sessions[0].id[:12]))
    monkeypatch.undo()
    assert bug.code == cli.EXIT_FAILED and "internal error (RuntimeError)" in bug.err, bug
    runs.append(bug)

    _harvest_sandbox(leaks, world)
    sessions_found, links = _search_journal(leaks, deck.state, "after the uploads")
    assert sessions_found >= 12 and links >= 3, (sessions_found, links)  # minted part links
    for run in runs:
        assert "Traceback" not in run.err, (run.label, run.err)
        _search_run(leaks, run)
    log = (deck.state / "partdeck.log").read_text()
    assert "RuntimeError" in log and "Traceback" in log, log
    leaks.search("partdeck.log after an internal error", log)
    leaks.assert_clean(start)


def test_the_service_and_its_clients_hold_no_secret(
    deck: Deck, leaks: Leaks, world: Sandbox
) -> None:
    """Uploads on every provider through a real service, then again with the tokens
    refused: the service's log, journal, snapshot, whole event stream, status and
    accounts, and what every client printed: no token, no key, no signature."""
    start = len(leaks.found)
    state = deck.root / "service-state"
    env = _env(PARTDECK_SERVICE="auto")
    env.pop("XDG_RUNTIME_DIR", None)  # the socket under the state dir
    where = ["--config", str(deck.config), "--state-dir", str(state)]
    files = deck.root / "service-files"  # new names: Box refuses a second file of one name
    files.mkdir()
    for path in deck.files.values():
        os.link(path, files / f"served-{path.name}")

    def upload(provider: str) -> list[str]:
        extra = ["--part-size", "5MiB"] if provider in CLIENT_PART_SIZE else []
        path = files / f"served-{deck.files[provider].name}"
        return ["upload", str(path), "--account", f"sandbox-{provider}", *extra]

    runs: list[Run] = []
    try:
        procs = {f"service: upload {p} --json": _partdeck(*upload(p), "--json", *where, env=env)
                 for p in ROUND}  # fmt: skip
        runs += [_finish(label, proc, timeout=120) for label, proc in procs.items()]
        with _other_tokens(world, leaks):
            procs = {f"service: upload {p}, token refused": _partdeck(*upload(p), *where, env=env)
                     for p in EMULATED}  # fmt: skip
            runs += [_finish(label, proc, timeout=120) for label, proc in procs.items()]
        status = _finish("service status --json", _partdeck("service", "status", "--json",
                                                             *where, env=env))  # fmt: skip
        runs += [status, _finish("sessions --json", _partdeck("sessions", "--json", *where,
                                                              env=env))]  # fmt: skip
        answers = asyncio.run(_service_answers(Path(json.loads(status.out)["socket"])))
        runs.append(_finish("service stop", _partdeck("service", "stop", *where, env=env)))
    finally:
        kill_services(state)
    assert [r.code for r in runs[: len(ROUND)]] == [0] * len(ROUND), [
        (r.label, r.code, r.err, r.out[-600:]) for r in runs[: len(ROUND)] if r.code
    ]
    assert all(r.code != 0 for r in runs[len(ROUND) : len(ROUND) + len(EMULATED)])
    _harvest_sandbox(leaks, world)
    sessions_found, _ = _search_journal(leaks, state, "the service's journal")
    assert sessions_found == len(ROUND) + len(EMULATED), sessions_found
    for run in runs:
        assert "Traceback" not in run.err, (run.label, run.err)
        _search_run(leaks, run)
    for place, text in answers.items():
        leaks.search(f"the service's {place}", text)
    assert len(answers["events"]) > 10_000, "the event stream was read"
    leaks.search("service.log", (state / "service.log").read_text())
    leaks.assert_clean(start)


async def _service_answers(socket: Path) -> dict[str, str]:
    """What the service answers on its socket: status, accounts, the snapshot, every
    session's parts and diagnosis, and every event record since 0."""
    async with ServiceClient(socket) as client:
        snapshot = await client.get("/snapshot")
        found = {
            "status": json.dumps(await client.get("/status")),
            "accounts": json.dumps(await client.get("/accounts")),
            "snapshot": json.dumps(snapshot),
        }
        parts, diagnoses = [], []
        for session in snapshot["sessions"]:
            where = f"/sessions/{session['session']['id']}"
            parts.append(json.dumps(await client.get(f"{where}/parts")))
            diagnoses.append(json.dumps(await client.call(f"{where}/inspect", {})))
        found["parts"], found["inspect"] = "\n".join(parts), "\n".join(diagnoses)
        records = []
        async for record in client.events(0):
            records.append(json.dumps(record))
            if record.get("seq", 0) >= snapshot["seq"]:
                break
        found["events"] = "\n".join(records)
    return found


def _a_signed_link(state_dir: Path) -> str:
    """A presigned part link the journal keeps (Gumroad's, minted at open)."""
    journal = Journal.open(state_dir)
    try:
        for s in journal.sessions():
            text = json.dumps(s.remote)
            if "X-Amz-Signature=" in text:
                start = text.index("http")
                return text[start : text.index('"', start)]
    finally:
        journal.close()
    raise AssertionError("no session keeps a presigned link")


async def _said(call: Any) -> str:
    """What a provider call ended with, for people: its error, or what it returned."""
    try:
        return f"returned {await call}"
    except PartdeckError as exc:
        return str(exc)


async def test_provider_errors_hold_no_secret(
    deck: Deck, leaks: Leaks, world: Sandbox, tmp_path: Path
) -> None:
    """str() of the errors the providers raise: the sandbox refusing a token or a key, and
    a server that quotes every secret back in 4xx, 500 and garbage answers, at the cheap
    check call and at the opening of an upload (driven by an engine)."""
    start = len(leaks.found)
    config = load_config(deck.config, must_exist=True)
    # Accounts that sign in are round 3's (their token endpoint's errors included).
    config = replace(
        config, accounts={n: a for n, a in config.accounts.items() if a.auth == "token"}
    )
    client = make_client(4)
    said: dict[str, str] = {}
    try:
        providers = {n: make_provider(a, client) for n, a in config.accounts.items()}
        with _other_tokens(world, leaks):
            for name, provider in providers.items():
                if name != "sandbox-s3":
                    said[f"{name} check, token refused (401)"] = await _said(provider.check())
        s3 = config.accounts["sandbox-s3"]
        wrong = secrets.token_urlsafe(30)
        leaks.add("a wrong S3 secret key", wrong)
        assert s3.bucket is not None
        bad = S3Provider(
            client, bucket=s3.bucket, access_key=ACCESS_KEY, secret_key=wrong,
            endpoint_url=s3.endpoint_url,
        )  # fmt: skip
        said["s3 check, wrong key (403)"] = await _said(bad.check())
        said["s3 list uploads, wrong key (403)"] = await _said(bad.list_uploads())
        with echo_server() as echo:
            echoed = {
                name: make_provider(
                    replace(
                        account,
                        base_url=account.base_url and echo.api_url(account.base_url),
                        upload_url=account.upload_url and echo.api_url(account.upload_url),
                        endpoint_url=account.endpoint_url and echo.url,
                    ),
                    client,
                )
                for name, account in config.accounts.items()
            }
            for mode in ("400", "401", "403", "404", "409", "500", "garbage"):
                echo.mode = mode
                for name, provider in echoed.items():
                    said[f"{name} check, echoing server {mode}"] = await _said(provider.check())
                if mode in ("500", "garbage"):
                    said[f"s3 list uploads, echoing server {mode}"] = await _said(
                        echoed["sandbox-s3"].list_uploads()
                    )
                    continue  # retried with backoff when opening: the check said enough
                journal = Journal.open(tmp_path / f"state-{mode}")
                engine = Engine(
                    journal, echoed.__getitem__, client, replace(config.engine, retries=0)
                )
                try:
                    for name in echoed:
                        provider_name = config.accounts[name].provider
                        session = await engine.plan(deck.files[provider_name], name)
                        ended = await engine.run(session.id)
                        assert ended.state == SessionState.FAILED and ended.error, ended
                        said[f"{name} opening an upload, echoing server {mode}"] = ended.error
                finally:
                    await engine.close()
                    journal.close()
                _search_journal(leaks, tmp_path / f"state-{mode}", f"opened on an echoing {mode}")
            assert echo.requests >= 60, echo.requests
            leaks.add_many("a secret sent to the echoing server", echo.seen)
    finally:
        await client.aclose()
    _harvest_sandbox(leaks, world)
    refused = [k for k, v in said.items() if "token refused" in k and not v.startswith("returned")]
    assert len(refused) == len(EMULATED), said
    for what, text in said.items():
        leaks.search(f"exception message: {what}", text)
    leaks.assert_clean(start)


def test_screens_hold_no_secret(
    deck: Deck,
    leaks: Leaks,
    world: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real app (cli.main with no command), every screen a session can show."""
    start = len(leaks.found)
    screens: dict[str, str] = {}
    problems: list[BaseException] = []

    def shoot(app: PartdeckApp, what: str) -> None:
        screens[f"{what} (SVG)"] = app.export_screenshot()
        screens[what] = _screen_text(app)

    async def tour(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, PartdeckApp)
        await until(pilot, lambda: bool(app.main.query(SessionsTable)), "the main screen")
        main = app.main
        table = main.query_one(SessionsTable)
        view = main.query_one(PartsView)
        await until(pilot, lambda: table.row_count >= 12, "every session")
        shoot(app, "sessions")

        def showing(sid: str) -> Callable[[], bool]:
            return lambda: main.selected == sid and any(p.session_id == sid for p in view.parts)

        async def back() -> None:
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is main, "the main screen")

        for row in range(table.row_count):
            table.move_cursor(row=row)
            sid = _key(table, row)
            await until(pilot, showing(sid), "the session's parts")
            await pilot.pause(0.05)
            session = main.sessions[sid]
            shoot(app, f"parts of {session.provider} {session.state} {row}")
            if session.state == SessionState.FAILED:
                await pilot.press("i")
                await until(pilot, lambda: isinstance(app.screen, InspectScreen), "inspect")
                inspect = app.screen
                assert isinstance(inspect, InspectScreen)
                await until(pilot, lambda: inspect.diagnosis is not None, "the diagnosis")  # noqa: B023
                await pilot.pause(0.05)
                shoot(app, f"inspect {session.provider} {row}")
                await back()
        for label, tokens in (
            ("good tokens", contextlib.nullcontext()),
            ("tokens refused", _other_tokens(world, leaks)),
        ):
            with tokens:
                await pilot.press("A")
                await until(pilot, lambda: isinstance(app.screen, AccountPickerScreen), "picker")
                await until(pilot, lambda: _checked(app.screen), "every check")
                shoot(app, f"account picker, {label}")
                await back()

        # An internal error under a command: one notification, a redacted log record.
        async def broken(*_args: object, **_kw: object) -> list[int]:
            raise RuntimeError(
                f"retry of {_a_signed_link(deck.state)} with Bearer {world.contexts['polar'].token}"
            )

        monkeypatch.setattr(app.engine, "retry", broken)
        failed = next(
            r for r in range(table.row_count) if main.rows.failed.get(_key(table, r), 0) > 0
        )
        table.move_cursor(row=failed)
        await until(pilot, showing(_key(table, failed)), "the failed session")
        await pilot.press("R")
        await until(pilot, lambda: any("internal error" in n for n in notices(app)), "report")
        shoot(app, "after an internal error")

    original = PartdeckApp.run_async

    async def headless(self: PartdeckApp, **_kw: Any) -> None:
        async def guarded(pilot: Pilot[Any]) -> None:
            try:
                await tour(pilot)
            except BaseException as exc:  # reported after main returns
                problems.append(exc)
            pilot.app.exit()

        await original(self, headless=True, size=(120, 40), auto_pilot=guarded)

    monkeypatch.setattr(PartdeckApp, "run_async", headless)
    run = _main(capsys, "partdeck (the app)", *deck.args())
    if problems:
        raise problems[0]
    assert run.code == 0, run
    _search_run(leaks, run)
    assert len(screens) >= 2 * (1 + 12 + 3 + 2 + 1), list(screens)
    # What they show: countdowns of minted links, and both kinds of account check.
    expiring = {
        w.split()[2]
        for w, t in screens.items()
        if w.startswith("parts of") and re.search(r"\bin \d+[hms]", t)
    }
    assert {"gumroad", "polar", "fileflare"} <= expiring, expiring
    assert "✓" in screens["account picker, good tokens"], screens["account picker, good tokens"]
    assert screens["account picker, tokens refused"].count("✗") >= len(EMULATED)
    for what, text in screens.items():
        leaks.search(f"screen: {what}", text)
    log = (deck.state / "partdeck.log").read_text()
    assert "Retry failed" in log, log
    leaks.search("partdeck.log after the app's internal error", log)
    _harvest_sandbox(leaks, world)
    leaks.assert_clean(start)


def _screen_text(app: PartdeckApp) -> str:
    """The screen as plain text, lines and all (what ``export_screenshot`` draws as SVG)."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def _key(table: SessionsTable, row: int) -> str:
    """The session id of a row of the sessions table."""
    return table.row_keys[row]


def _checked(picker: object) -> bool:
    """True once the account picker shows every connection check's outcome."""
    from textual.widgets import DataTable

    if not isinstance(picker, AccountPickerScreen):
        return False
    table = picker.query_one(DataTable)
    cells = [str(table.get_cell(key, "check")) for key in table.rows]
    return bool(cells) and not any(c in ("…", "checking…") for c in cells)


def test_committed_screenshots_hold_no_secret(leaks: Leaks) -> None:
    """The snapshot SVGs and the README screenshots: no secret shapes in them."""
    start = len(leaks.found)
    svgs = sorted((ROOT / "tests" / "ui" / "__snapshots__").rglob("*.svg"))
    svgs += sorted((ROOT / "docs" / "screenshots").glob("*.svg"))
    assert len(svgs) >= 20, svgs
    for path in svgs:
        text = path.read_text(encoding="utf-8")
        leaks.search(f"committed {path.relative_to(ROOT)}", text + "\n" + svg_text(text))
    leaks.assert_clean(start)


# -- 2. an inline secret in a config others can read --------------------------------------


def _inline_config(path: Path, world: Sandbox, how: str, mode: int) -> Path:
    ctx = world.contexts["gumroad"]
    secret_line = {
        "inline": f'token = "{ctx.token}"',
        "file": f'token_file = "{world.root / "tokens" / "gumroad"}"',
        "env": 'token_env = "PARTDECK_TEST_GUMROAD_TOKEN"',
    }[how]
    path.write_text(
        '[accounts.mine]\nprovider = "gumroad"\n'
        f'base_url = "{world.account_tables()["sandbox-gumroad"]["base_url"]}"\n{secret_line}\n'
    )
    path.chmod(mode)
    return path


def test_inline_secret_readable_by_others_is_warned_about(
    world: Sandbox,
    leaks: Leaks,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CLI and app: one warning line naming the file and chmod 600; none when private."""
    start = len(leaks.found)
    world.write_secrets()
    small = make_file(tmp_path / "small.bin", 1 * MiB, seed=5)
    env = _env(
        PARTDECK_ALLOW_INLINE_SECRETS="1",
        PARTDECK_TEST_GUMROAD_TOKEN=world.contexts["gumroad"].token,
    )
    cases = {
        ("inline", 0o644): True,
        ("inline", 0o640): True,
        ("inline", 0o600): False,
        ("file", 0o644): False,
        ("env", 0o644): False,
    }
    procs = {}
    for how, mode in cases:
        path = _inline_config(tmp_path / f"{how}-{mode:o}.toml", world, how, mode)
        procs[(how, mode)] = (
            path,
            _partdeck(
                "upload", str(small), "--account", "mine", "--config", str(path),
                "--state-dir", str(tmp_path / f"state-{how}-{mode:o}"), env=env,
            ),
        )  # fmt: skip
    for (how, mode), (path, proc) in procs.items():
        run = _finish(f"upload, {how} secret, config {mode:o}", proc)
        assert run.code == 0, run
        warnings = [line for line in run.err.splitlines() if "chmod" in line]
        if cases[(how, mode)]:
            assert len(warnings) == 1, run.err
            line = warnings[0]
            assert str(path) in line and "chmod 600" in line and "inline secret" in line, line
        else:
            assert warnings == [], run.err
        _search_run(leaks, run)

    # The app: a notification saying the same.
    monkeypatch.setenv("PARTDECK_ALLOW_INLINE_SECRETS", "1")
    seen: dict[int, list[str]] = {}
    original = PartdeckApp.run_async
    for mode in (0o644, 0o600):
        path = _inline_config(tmp_path / f"app-{mode:o}.toml", world, "inline", mode)

        async def headless(self: PartdeckApp, *, _mode: int = mode, **_kw: Any) -> None:
            async def look(pilot: Pilot[Any]) -> None:
                await pilot.pause(0.2)
                assert isinstance(pilot.app, PartdeckApp)
                seen[_mode] = notices(pilot.app)
                leaks.search(
                    f"screen: app with a {_mode:o} inline-secret config", _screen_text(pilot.app)
                )
                pilot.app.exit()

            await original(self, headless=True, size=(120, 40), auto_pilot=look)

        monkeypatch.setattr(PartdeckApp, "run_async", headless)
        run = _main(
            capsys,
            f"app, config {mode:o}",
            "--config",
            str(path),
            "--state-dir",
            str(tmp_path / "app-state"),
        )
        assert run.code == 0, run
    warned = [n for n in seen[0o644] if "chmod 600" in n]
    assert (
        len(warned) == 1 and "\n" not in warned[0] and str(tmp_path / "app-644.toml") in warned[0]
    ), seen
    assert not any("chmod" in n for n in seen[0o600]), seen
    leaks.assert_clean(start)


# -- 3. file modes under a permissive umask -------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_files_are_private_under_umask_000(
    world: Sandbox, leaks: Leaks, tmp_path: Path
) -> None:
    """Journal (+ -wal, -shm), locks, partdeck.log, the sandbox's secrets: 0600; dirs 0700."""
    start = len(leaks.found)
    files = tmp_path / "files"
    files.mkdir()
    upload = make_file(files / "private.bin", 11 * MiB, seed=7)
    # (a) No config at all: partdeck starts its own sandbox and writes its secrets.
    fresh = tmp_path / "fresh-state"
    no_config = _partdeck(
        "upload", str(upload), "--account", "sandbox-s3", "--json", "--state-dir", str(fresh),
        env=_env(XDG_CONFIG_HOME=str(tmp_path / "no-config")), umask=0,
    )  # fmt: skip
    # (b) A slow upload, looked at while it runs (the -wal and -shm exist only then).
    slow_state = tmp_path / "slow-state"
    config = world.write_config(tmp_path / "slow.toml", {**ENGINE, "bandwidth_limit": "6MB"})
    slow = _partdeck(
        "upload", str(upload), "--account", "sandbox-s3", "--json", "--part-size", "5MiB",
        "--config", str(config), "--state-dir", str(slow_state), umask=0,
    )  # fmt: skip
    # (c) An internal error, so partdeck.log is written.
    log_state = tmp_path / "log-state"
    script = (
        "import sys\n"
        "from tui import cli\n"
        "from tui.core.journal import Journal\n"
        "def boom(self):\n"
        "    raise RuntimeError('journal read went wrong')\n"
        "Journal.sessions = boom\n"
        f"sys.exit(cli.main(['sessions', '--state-dir', {str(log_state)!r}]))\n"
    )
    logger = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=_env(), preexec_fn=lambda: os.umask(0),
    )  # fmt: skip

    seen: dict[str, int] = {}
    assert slow.stdout is not None
    for line in slow.stdout:
        if '"uploading"' in line and '"part"' in line:
            for name in (
                "",
                Journal.FILENAME,
                f"{Journal.FILENAME}-wal",
                f"{Journal.FILENAME}-shm",
                "locks",
            ):
                seen[f"slow/{name}"] = _mode(slow_state / name)
            for lock in (slow_state / "locks").iterdir():
                seen[f"slow/locks/{lock.name}"] = _mode(lock)
            break
    runs = [
        _finish("upload, no config, umask 000", no_config),
        _finish("upload, slow, umask 000", slow),
        _finish("sessions, internal error, umask 000", logger),
    ]
    assert [r.code for r in runs] == [0, 0, cli.EXIT_FAILED], runs
    assert "internal error (RuntimeError)" in runs[2].err, runs[2]
    for run in runs:
        _search_run(leaks, run)
    for path in sorted([fresh, *fresh.rglob("*"), log_state, *log_state.rglob("*")]):
        seen[str(path.relative_to(tmp_path))] = _mode(path)

    expected = {
        "slow/": 0o700,
        f"slow/{Journal.FILENAME}": 0o600,
        f"slow/{Journal.FILENAME}-wal": 0o600,
        f"slow/{Journal.FILENAME}-shm": 0o600,
        "slow/locks": 0o700,
        "fresh-state": 0o700,
        f"fresh-state/{Journal.FILENAME}": 0o600,
        "fresh-state/sandbox/aws-credentials": 0o600,
        "fresh-state/sandbox/in-process.toml": 0o600,
        "fresh-state/sandbox/tokens": 0o700,
        "fresh-state/locks": 0o700,
        "log-state": 0o700,
        "log-state/partdeck.log": 0o600,
    }
    expected.update({f"fresh-state/sandbox/tokens/{p}": 0o600 for p in EMULATED})
    assert {k: oct(seen.get(k, 0)) for k in expected} == {k: oct(v) for k, v in expected.items()}
    locks = [k for k in seen if "/locks/" in k]
    assert locks and all(seen[k] == 0o600 for k in locks), {k: oct(seen[k]) for k in locks}
    # Nothing else under the state dirs is open to group or others.
    loose = {k: oct(v) for k, v in seen.items() if v & 0o077}
    assert not loose, loose
    leaks.assert_clean(start)


# -- 4. TLS ----------------------------------------------------------------------------------


def _self_signed(where: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost that nothing trusts, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partdeck test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = where / "cert.pem", where / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@contextlib.contextmanager
def _https_gateway(moto: MotoServer, world: Sandbox, where: Path) -> Iterator[str]:
    """The sandbox's checking S3 gateway, served over HTTPS with a self-signed certificate."""
    cert, key = _self_signed(where)
    port = free_port()
    app = create_gateway(moto.url, {ACCESS_KEY: world.secret_key})
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="critical", access_log=False,
            lifespan="on", ssl_certfile=str(cert), ssl_keyfile=str(key),
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the HTTPS gateway did not start"
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _tls_config(path: Path, world: Sandbox, url: str) -> Path:
    world.write_secrets()
    common = (
        'provider = "s3"\n'
        f'endpoint_url = "{url}"\n'
        f'bucket = "{world.backends["s3"].bucket}"\n'
        f'profile = "{PROFILE}"\n'
        f'credentials_file = "{world.root / "aws-credentials"}"\n'
    )
    path.write_text(
        "[engine]\nretries = 2\nparts_in_flight = 4\n\n"
        f"[accounts.checked]\n{common}\n[accounts.loopback-test]\n{common}verify_tls = false\n"
    )
    return path


async def test_tls_is_checked_unless_a_loopback_account_opts_out(
    moto: MotoServer, world: Sandbox, leaks: Leaks, tmp_path: Path
) -> None:
    """One certificate line when checked; the opt-out works for control calls and part PUTs
    of its own account only."""
    start = len(leaks.found)
    upload = make_file(tmp_path / "tls.bin", 11 * MiB, seed=11)
    with _https_gateway(moto, world, tmp_path) as url:
        config_path = _tls_config(tmp_path / "tls.toml", world, url)
        state = tmp_path / "state"
        proc = _partdeck(
            "upload", str(upload), "--account", "checked", "--part-size", "5MiB",
            "--config", str(config_path), "--state-dir", str(state / "cli"),
        )  # fmt: skip
        run = await asyncio.to_thread(_finish, "upload to a self-signed endpoint", proc)
        assert run.code == cli.EXIT_FAILED, run
        text = run.out + run.err
        certificate = (
            "the TLS certificate of 127.0.0.1 could not be verified (self-signed certificate); "
            "if it is a test server of yours, set verify_tls = false in its account"
        )
        # Said once, on stderr (stdout names the state), never retried as a network error,
        # never a traceback.
        assert run.out.splitlines()[0] == "tls.bin: failed", text
        assert run.err.splitlines() == [run.err.strip()] and certificate in run.err, text
        assert text.count(certificate) == 1, text
        assert "will retry" not in text and "Traceback" not in text, text
        _search_run(leaks, run)

        # One engine, both accounts at once: the opt-out is that account's, parts included.
        config = load_config(config_path, must_exist=True)
        async with open_engine(config, state / "engine") as engine:
            opted = await engine.plan(upload, "loopback-test", 5 * MiB)
            checked = await engine.plan(upload, "checked", 5 * MiB)
            done = await asyncio.gather(engine.run(opted.id), engine.run(checked.id))
            parts = engine.journal.parts(opted.id)
        assert [s.state for s in done] == [SessionState.COMPLETED, SessionState.FAILED], done
        assert len(parts) == 3 and all(p.state == "verified" for p in parts), parts
        assert done[1].error is not None and "certificate" in done[1].error, done[1].error
        assert done[1].error.count("certificate") >= 1 and "\n" not in done[1].error
        _search_journal(leaks, state / "engine", "TLS")

    # The engine picks the unchecked client only for a loopback URL of an opted-out account.
    cache = ProviderCache(config, config.engine)
    try:
        unchecked = cache.client(verify=False)
        assert cache.part_client("loopback-test", f"{url}/b/k?partNumber=1") is unchecked
        assert cache.part_client("loopback-test", "https://s3.amazonaws.com/b/k") is cache.client()
        assert cache.part_client("checked", f"{url}/b/k?partNumber=1") is cache.client()
    finally:
        await cache.aclose()

    # The opt-out for a host that is not loopback: refused, one line naming key and fix.
    text = (
        '[accounts.far]\nprovider = "s3"\nendpoint_url = "https://s3.example.com"\n'
        'bucket = "b"\nverify_tls = false\n'
    )
    with pytest.raises(ConfigError) as refused:
        parse_config(text, source=tmp_path / "far.toml")
    message = str(refused.value)
    assert "\n" not in message and "verify_tls = false" in message and "loopback" in message
    assert "s3.example.com" in message and str(tmp_path / "far.toml") in message, message
    leaks.assert_clean(start)


# -- the count -----------------------------------------------------------------------------


def test_the_search_finds_what_it_looks_for(leaks: Leaks, world: Sandbox) -> None:
    """A control: secrets planted the ways they could leak are found; redacted ones are not."""
    _harvest_sandbox(leaks, world)
    signature = next(
        (v for v, label in leaks.secrets.items() if "signature" in label), secrets.token_hex(32)
    )
    token = world.contexts["box"].token
    probe = Leaks(secrets=dict(leaks.secrets))
    probe.add("a request signature", signature)
    planted = {
        "a presigned link": f"PUT http://h/b/k?partNumber=1&X-Amz-Signature={signature} 500",
        "a bearer header": f"Authorization: Bearer {token}",
        "a cut-off token": f"token {token[:-3]}… (truncated)",
        "an SVG cell": f'<text class="r1">Bearer&#160;{token[:20]}</text>',
        "the S3 key, front cut off": f"key …{world.secret_key[5:]}",
        "a signature in a JSON error": json.dumps({"detail": f"bad Signature={signature}"}),
        "a credentials line": "aws_secret_access_key = (some value)",
    }
    for place, text in planted.items():
        probe.search(place, text)
    assert {line.split(":")[0] for line in probe.found} == set(planted), probe.report()
    assert all(token not in line and signature not in line for line in probe.found)
    clean = Leaks(secrets=dict(probe.secrets))
    for place, text in {
        "a redacted link": "PUT http://h/b/k?… 500",
        "a redacted header": "Authorization: Bearer …",
        "a redacted signature": "X-Amz-Signature=… Signature=…",
    }.items():
        clean.search(place, text)
    assert not clean.found, clean.report()


def test_no_secret_anywhere(leaks: Leaks, world: Sandbox, proof: Proof) -> None:
    """Every place again, against every secret this module harvested; the counts printed."""
    _harvest_sandbox(leaks, world)
    found = leaks.recheck()
    proof.tally.add(SUITE, "secrets searched", len(leaks.secrets))
    proof.tally.add(SUITE, "places searched", len(leaks.texts))
    proof.tally.add(SUITE, "secrets found", len(found))
    kinds: dict[str, int] = {}
    for label in leaks.secrets.values():
        kind = label.split(" #")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    proof.tally.note(SUITE, "secrets: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    assert len(leaks.secrets) >= 40 and len(leaks.texts) >= 100, (
        len(leaks.secrets),
        len(leaks.texts),
    )
    assert not found, "\n".join(found)
