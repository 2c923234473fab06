"""Box accounts that sign in (``auth = "oauth"``) or use client credentials (``"ccg"``),
against the sandbox's Box emulator and its token endpoint, over real sockets.

Access tokens there live ``token_ttl`` seconds (a second or two here), so an upload of
a few seconds outlives several of them; the emulator counts refreshes and any refresh
token sent twice (``/_sandbox/stats`` ``oauth``).
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tui.core.journal import Journal
from tui.core.token_store import TokenStore
from tui.core.units import MiB

Kits = Callable[[str], ProviderKit]

SIZE = 40 * MiB
"""Five 8 MiB parts: with two in flight at 8 MB/s, about five seconds of upload."""
SLOW: dict[str, Any] = {"parts_in_flight": 2, "bandwidth_limit": "8MB"}


def _file(tmp_path: Path, seed: int = 0) -> Path:
    return make_file(tmp_path / f"oauth {uuid.uuid4().hex[:10]}.bin", SIZE, seed=seed)


def _box(kit: ProviderKit) -> Any:
    return kit.sandbox.contexts["box"]


def _stats(kit: ProviderKit) -> dict[str, int]:
    answer = httpx.get(f"{_box(kit).public_url}/_sandbox/stats")
    oauth: dict[str, int] = answer.json()["oauth"]
    return oauth


def _sign_in(kit: ProviderKit, monkeypatch: pytest.MonkeyPatch, answer: str | None = None) -> Any:
    """``partdeck auth sandbox-box-oauth`` with the sandbox's sign-in code piped in."""
    monkeypatch.setattr("sys.stdin", io.StringIO((answer or _box(kit).sign_in_code) + "\n"))
    return kit.cli("auth", "sandbox-box-oauth")


def _revoke(kit: ProviderKit, token: str) -> None:
    ctx = _box(kit)
    form = {"client_id": ctx.client_id, "client_secret": ctx.client_secret, "token": token}
    assert httpx.post(f"{ctx.public_url}/oauth2/revoke", data=form).status_code == 200


def _secrets(kit: ProviderKit) -> list[str]:
    """Every secret the token store holds, and the app's client secret."""
    data = json.loads((kit.state_dir / "tokens.json").read_text())
    found = [_box(kit).client_secret]
    for entry in data["accounts"].values():
        found += [entry["access_token"], entry.get("refresh_token") or ""]
    return [s for s in found if s]


@pytest.fixture
def kit(kit_factory: Kits) -> ProviderKit:
    made = kit_factory("box")
    made.config = made.write_config(**SLOW)
    return made


def test_sign_in_then_an_upload_outlives_several_tokens(
    kit: ProviderKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit.set_faults(token_ttl=1.0)
    before = _stats(kit)
    signed = _sign_in(kit, monkeypatch)
    assert signed.code == 0, signed.err
    assert "signed in; the access token runs out in 1 s" in signed.out
    store = kit.state_dir / "tokens.json"
    assert oct(store.stat().st_mode & 0o777) == "0o600"

    kit.account = "sandbox-box-oauth"
    result = kit.upload(_file(tmp_path))
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    after = _stats(kit)
    assert after.get("refreshes", 0) - before.get("refreshes", 0) >= 2  # several lifetimes
    assert after.get("refresh_reused", 0) == before.get("refresh_reused", 0)
    for secret in _secrets(kit):
        assert secret not in result.out + result.err + signed.out + signed.err


def test_client_credentials_upload_outlives_several_tokens(
    kit: ProviderKit, tmp_path: Path
) -> None:
    kit.set_faults(token_ttl=1.0)
    before = _stats(kit)
    kit.account = "sandbox-box-ccg"
    result = kit.upload(_file(tmp_path, seed=1))
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert _stats(kit)["ccg_grants"] - before.get("ccg_grants", 0) >= 2
    checked = kit.cli("auth", "sandbox-box-ccg")
    assert checked.code == 0 and "Box accepted the client credentials" in checked.out


def test_jwt_upload_outlives_several_tokens_and_a_wrong_key_id_is_one_line(
    kit: ProviderKit, tmp_path: Path
) -> None:
    kit.set_faults(token_ttl=1.0)
    before = _stats(kit)
    kit.account = "sandbox-box-jwt"
    result = kit.upload(_file(tmp_path, seed=7))
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert _stats(kit)["jwt_grants"] - before.get("jwt_grants", 0) >= 2
    checked = kit.cli("auth", "sandbox-box-jwt")
    assert checked.code == 0 and "Box accepted the app's JWT assertion" in checked.out

    key_id = _box(kit).jwt_key_id
    wrong = tmp_path / "wrong-key-id.toml"
    wrong.write_text(kit.config.read_text().replace(f'"{key_id}"', '"not-the-key-id"'))
    os.chmod(wrong, 0o600)
    TokenStore(kit.state_dir).forget("sandbox-box-jwt")
    refused = kit.cli("auth", "sandbox-box-jwt", config=wrong)
    assert refused.code == 2 and refused.err.count("\n") == 1
    assert "Box refused the JWT assertion (invalid_grant: " in refused.err
    assert "Public key id is not valid" in refused.err and "check public_key_id" in refused.err


def test_two_uploads_at_once_never_send_a_refresh_token_twice(
    kit: ProviderKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit.set_faults(token_ttl=1.0)
    assert _sign_in(kit, monkeypatch).code == 0
    before = _stats(kit)
    # Two processes on one account, each renewing its tokens from the same store.
    children = [
        subprocess.Popen(
            kit.argv(
                "upload", _file(tmp_path, seed=n), "--account", "sandbox-box-oauth", "--no-service"
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (2, 3)
    ]
    outcomes = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, err
        assert "completed" in out
    after = _stats(kit)
    assert after.get("refresh_reused", 0) == before.get("refresh_reused", 0)
    assert after.get("refreshes", 0) - before.get("refreshes", 0) >= 2


def test_a_revoked_sign_in_leaves_the_session_resumable_with_one_line(
    kit: ProviderKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit.set_faults(token_ttl=1.0)
    assert _sign_in(kit, monkeypatch).code == 0
    # Revoked once a part is verified (by an admin, or the user on another machine):
    # every refresh token the store holds from then on, so no refresh slips in between.
    done = threading.Event()

    def verified_parts() -> int:
        try:
            db = sqlite3.connect(f"file:{kit.state_dir / Journal.FILENAME}?mode=ro", uri=True)
        except sqlite3.Error:
            return 0
        try:
            row = db.execute("SELECT count(*) FROM parts WHERE state = 'verified'").fetchone()
            return int(row[0])
        except sqlite3.Error:
            return 0  # not created yet
        finally:
            db.close()

    def revoke_once_a_part_is_verified() -> None:
        while not done.is_set() and verified_parts() == 0:
            done.wait(0.02)
        while not done.is_set():
            stored = TokenStore(kit.state_dir).read("sandbox-box-oauth")
            assert stored is not None and stored.refresh_token
            _revoke(kit, stored.refresh_token)
            done.wait(0.05)

    revoker = threading.Thread(target=revoke_once_a_part_is_verified)
    revoker.start()
    kit.account = "sandbox-box-oauth"
    try:
        result = kit.upload(_file(tmp_path, seed=4))
    finally:
        done.set()
        revoker.join()
    assert result.code == 1
    error = result.summary["error"]
    short = result.summary["session"][:8]
    assert error.endswith(
        "sign in again with partdeck auth sandbox-box-oauth, then carry on with "
        f"partdeck resume {short}"
    ), error
    assert "invalid_grant" in error and "\n" not in error
    journal = Journal.open(kit.state_dir)
    try:
        session = journal.find(short)
        parts = journal.parts(session.id)
    finally:
        journal.close()
    verified = [p.number for p in parts if p.state == "verified"]
    assert verified, "the revocation should strike after a part was verified"
    puts_before = dict(kit.faults.puts_for(session.remote["upload_id"]))

    assert _sign_in(kit, monkeypatch).code == 0
    resumed = kit.cli("resume", short, "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    puts_after = kit.faults.puts_for(session.remote["upload_id"])
    for number in verified:  # nothing already uploaded is sent again
        assert puts_after[number] == puts_before[number]


def test_the_whole_redirect_address_can_be_pasted_and_its_state_is_checked(
    kit: ProviderKit, tmp_path: Path
) -> None:
    config = kit.config.read_text().replace(
        'auth = "oauth"', 'auth = "oauth"\nredirect_uri = "http://127.0.0.1:1/callback"'
    )
    with_redirect = tmp_path / "redirect.toml"
    with_redirect.write_text(config)
    os.chmod(with_redirect, 0o600)

    def sign_in(tamper: bool) -> subprocess.CompletedProcess[str]:
        child = subprocess.Popen(
            kit.argv("auth", "sandbox-box-oauth", config=with_redirect),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout is not None and child.stdin is not None
        url = ""
        while not url:
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else ""
            if line.strip().startswith("http"):
                url = line.strip()
        assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback" in url
        # The browser's part: the sign-in page sends it to the redirect URI.
        location = httpx.get(url).headers["location"]
        assert location.startswith("http://127.0.0.1:1/callback?code=")
        if tamper:
            location = location.replace("state=", "state=x")
        out, err = child.communicate(location + "\n", timeout=60)
        return subprocess.CompletedProcess(child.args, child.returncode, out, err)

    tampered = sign_in(tamper=True)
    assert tampered.returncode == 2
    assert tampered.stderr.count("\n") == 1
    assert "that URL belongs to another sign-in (its state differs)" in tampered.stderr
    good = sign_in(tamper=False)
    assert good.returncode == 0, good.stderr
    assert "signed in" in good.stdout


def test_sign_in_mistakes_get_one_line_each(
    kit: ProviderKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = _sign_in(kit, monkeypatch, answer="not-a-code")
    assert wrong.code == 2
    assert "Box refused the code (invalid_grant" in wrong.err
    assert "run partdeck auth sandbox-box-oauth again" in wrong.err
    assert wrong.err.count("\n") == 1

    token_account = kit.cli("auth", "sandbox-box")
    assert token_account.code == 2
    assert 'partdeck auth signs in Box accounts with auth = "oauth"' in token_account.err

    # Not signed in: the upload stops at once, resumable, and says what to run.
    kit.account = "sandbox-box-oauth"
    result = kit.upload(_file(tmp_path, seed=5))
    assert result.code == 1
    assert (
        "box account sandbox-box-oauth is not signed in; run partdeck auth "
        in (result.summary["error"])
    )

    # A wrong client secret: the config's reference is named, the secret is not.
    secret_file = kit.sandbox.root / "tokens" / "box-client-secret"
    bad = tmp_path / "bad.toml"
    bad.write_text(kit.config.read_text().replace(str(secret_file), str(tmp_path / "wrong-secret")))
    os.chmod(bad, 0o600)
    (tmp_path / "wrong-secret").write_text("not-the-secret\n")
    refused = kit.cli("auth", "sandbox-box-ccg", config=bad)
    assert refused.code == 2
    assert "Box refused the app's client id or secret (invalid_client)" in refused.err
    assert "not-the-secret" not in refused.err


def test_forget_removes_the_stored_tokens(
    kit: ProviderKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _sign_in(kit, monkeypatch).code == 0
    assert TokenStore(kit.state_dir).read("sandbox-box-oauth") is not None
    forgot = kit.cli("auth", "sandbox-box-oauth", "--forget")
    assert forgot.code == 0 and "tokens removed" in forgot.out
    assert TokenStore(kit.state_dir).read("sandbox-box-oauth") is None


@pytest.mark.parametrize("provider", ["box", "gumroad"])
def test_a_token_command_token_rotated_mid_upload_is_fetched_again(
    kit_factory: Kits, tmp_path: Path, provider: str
) -> None:
    kit = kit_factory(provider)
    ctx = kit.sandbox.contexts[provider]
    secret = tmp_path / "vault"
    secret.write_text(ctx.token + "\n")
    reads = tmp_path / "reads"
    table = f"[accounts.sandbox-{provider}]"
    config = kit.write_config(**SLOW).read_text()
    start = config.index(table)
    line = next(x for x in config[start:].splitlines() if x.startswith("token_file"))
    rotating = tmp_path / "rotating.toml"
    rotating.write_text(
        config.replace(line, f"token_command = \"echo . >> '{reads}'; cat '{secret}'\"", 1)
    )
    os.chmod(rotating, 0o600)
    original = ctx.token

    def rotate() -> None:  # the vault hands out a new token; the old one stops working
        ctx.token = f"rotated-{uuid.uuid4().hex}"
        secret.write_text(ctx.token + "\n")

    timer = threading.Timer(0.7, rotate)
    timer.start()
    try:
        size = 12 * MiB if provider == "gumroad" else SIZE
        path = make_file(tmp_path / f"rotated {uuid.uuid4().hex[:8]}.bin", size, seed=6)
        result = kit.upload(path, config=rotating)
    finally:
        timer.join()
        ctx.token = original
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert 2 <= reads.read_text().count(".") <= 3  # once at the start, once after the refusal
    assert original not in result.out + result.err


async def test_the_accounts_screen_signs_an_account_in(kit: ProviderKit) -> None:
    from textual.widgets import DataTable, Input, Static

    from tests.ui.conftest import until
    from tui.config import load_config
    from tui.runtime import open_engine
    from tui.ui.app import PartdeckApp
    from tui.ui.screens.accounts import AccountPickerScreen
    from tui.ui.screens.sign_in import SignInScreen
    from tui.ui.themes import shipped_themes_dir

    config = load_config(kit.config, must_exist=True)
    async with open_engine(config, kit.state_dir) as engine:
        app = PartdeckApp(
            engine, config, theme_dirs=[shipped_themes_dir()], state_dir=kit.state_dir
        )
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("A")
            await until(pilot, lambda: isinstance(app.screen, AccountPickerScreen), "accounts")
            table = app.screen.query_one(DataTable)
            row = list(config.accounts).index("sandbox-box-oauth")
            assert "not signed in" in str(table.get_row_at(row)[2])
            table.move_cursor(row=row)
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, SignInScreen), "the dialog")
            dialog = app.screen
            assert "/api/oauth2/authorize?" in str(dialog.query_one("#url", Static).render())
            dialog.query_one(Input).value = "not-the-code"
            await pilot.press("enter")
            said = dialog.query_one("#said", Static)
            await until(pilot, lambda: "Box refused the code" in str(said.render()), "refusal")
            dialog.query_one(Input).value = _box(kit).sign_in_code
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, AccountPickerScreen), "signed in")
            await until(pilot, lambda: "oauth: until" in str(table.get_row_at(row)[2]), "cell")
    assert TokenStore(kit.state_dir).read("sandbox-box-oauth") is not None


def test_through_the_service_a_new_sign_in_carries_the_session_on(
    kit: ProviderKit, tmp_path: Path
) -> None:
    """The service holds the account's token source: a revoked sign-in stops the session
    there, and a ``partdeck auth`` run outside it is what its next renewal reads."""
    from tests.support.services import kill_services, service_env, service_pids

    kit.set_faults(token_ttl=1.0)
    env = service_env()

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            kit.argv(*args), input=stdin, capture_output=True, text=True, env=env, timeout=120
        )

    try:
        assert run("auth", "sandbox-box-oauth", stdin=_box(kit).sign_in_code).returncode == 0
        done = threading.Event()

        def revoke_after_a_while() -> None:
            done.wait(1.5)  # the service is up and a part or two are on their way
            while not done.is_set():
                stored = TokenStore(kit.state_dir).read("sandbox-box-oauth")
                if stored is not None and stored.refresh_token:
                    _revoke(kit, stored.refresh_token)
                done.wait(0.05)

        revoker = threading.Thread(target=revoke_after_a_while)
        revoker.start()
        try:
            upload = run("upload", str(_file(tmp_path, seed=8)), "--account", "sandbox-box-oauth")
        finally:
            done.set()
            revoker.join()
        assert upload.returncode == 1, upload.stderr
        assert service_pids(kit.state_dir), "the upload did not go through the service"
        assert "sign in again with partdeck auth sandbox-box-oauth" in upload.stderr
        short = re.search(r"partdeck resume ([0-9a-f]{8})", upload.stderr)
        assert short is not None, upload.stderr

        assert run("auth", "sandbox-box-oauth", stdin=_box(kit).sign_in_code).returncode == 0
        resumed = run("resume", short[1])
        assert resumed.returncode == 0, resumed.stderr
        assert "completed" in resumed.stdout
    finally:
        run("service", "stop")
        kill_services(kit.state_dir)
