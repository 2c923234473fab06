"""A provider's own session, file or asset gone on the server, over real sockets.

Not S3's NoSuchUpload met by a part (test_upload_gone_everywhere.py) but each provider's
own answer: Box's 404 on an upload session, Wunderlist's collected upload, Polar's
FileNotFound, Fileflare's missing asset, Gumroad's complete passing on S3's NoSuchUpload.
partdeck stops on one line, keeps nothing of the gone upload, and resume opens a new one
through the provider's API and sends every part again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit, Result
from tui.core.journal import Journal
from tui.core.model import Part, PartState, Session, SessionState
from tui.core.units import MiB

Kits = Callable[[str], ProviderKit]
GONE = "the upload is gone on the server"


def stored(kit: ProviderKit, session_id: str) -> tuple[Session, list[Part]]:
    journal = Journal.open(kit.state_dir)
    try:
        return journal.session(session_id), journal.parts(session_id)
    finally:
        journal.close()


def api(kit: ProviderKit, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Call the emulator's own API with the account's token, as someone else would."""
    ctx = kit.sandbox.contexts[kit.provider]
    headers = {"Authorization": f"Bearer {ctx.token}", "Accept": "application/json"}
    return httpx.request(method, ctx.public_url + path, headers=headers, timeout=30, **kwargs)


def assert_stopped_gone(kit: ProviderKit, result: Result, session_id: str) -> None:
    """One line naming the gone upload and the resume; the journal keeps nothing of it."""
    assert result.code == 1, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert GONE in lines[0] and f"partdeck resume {session_id[:8]}" in lines[0]
    session, parts = stored(kit, session_id)
    assert session.state == SessionState.FAILED and session.remote == {}
    assert all(p.state == PartState.PENDING and p.etag is None for p in parts)


def resume_lands(kit: ProviderKit, session_id: str, gone_id: str) -> Session:
    """Resume completes on a new remote upload that got every part once."""
    before = {u for u, _ in kit.faults.part_puts}  # upload ids as the part PUTs name them
    resumed = kit.cli("resume", session_id[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    session, parts = stored(kit, session_id)
    assert str(session.remote["upload_id"]) != gone_id
    (put_to,) = {u for u, _ in kit.faults.part_puts} - before
    assert kit.faults.puts_for(put_to) == {p.number: 1 for p in parts}
    assert len(parts) >= 2
    return session


# -- Box: its own store, no S3 ---------------------------------------------------------------


def box_content(kit: ProviderKit, location: str) -> bytes:
    file_id = location.split()[2]
    url = kit.sandbox.contexts["box"].public_url + f"/_sandbox/files/{file_id}/content"
    return httpx.get(url, timeout=30).content


def box_file(tmp_path: Path, seed: int) -> Path:
    # The emulator's folder outlives each test: every file gets a name of its own.
    return make_file(tmp_path / f"box {uuid.uuid4().hex[:10]}.bin", 21 * MiB, seed=seed)


def test_box_session_deleted_mid_upload_stops_and_resume_starts_over(
    kit_factory: Kits, tmp_path: Path
) -> None:
    kit = kit_factory("box")
    kit.set_faults(upload_gone=1)
    path = box_file(tmp_path, seed=41)
    first = kit.upload(path)
    session_id = first.summary["session"]
    assert first.summary["state"] == "failed"
    (gone_id,) = {u for u, _ in kit.faults.part_puts}
    assert kit.faults.injected["upload_gone"] == 1
    assert_stopped_gone(kit, Result(first.code, "", first.summary["error"] + "\n"), session_id)
    assert set(kit.faults.puts_for(gone_id).values()) == {1}  # not retried into the void

    kit.set_faults()
    session = resume_lands(kit, session_id, gone_id)
    assert box_content(kit, str(session.location)) == path.read_bytes()


def test_box_session_aborted_elsewhere_before_commit(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("box")
    path = box_file(tmp_path, seed=42)
    first = kit.upload(path, "--no-complete")
    assert first.summary["state"] == "uploaded", first.err
    session_id = first.summary["session"]
    session, _ = stored(kit, session_id)
    gone_id = session.remote["upload_id"]
    abort_url = session.remote["session_endpoints"]["abort"]
    token = kit.sandbox.contexts["box"].token
    deleted = httpx.delete(abort_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert deleted.status_code == 204

    assert_stopped_gone(kit, kit.cli("complete", session_id[:8]), session_id)
    session = resume_lands(kit, session_id, gone_id)
    assert box_content(kit, str(session.location)) == path.read_bytes()


# -- S3-backed providers: the provider's own record is gone -----------------------------------


def s3_key(kit: ProviderKit, session: Session) -> str:
    """Where the completed object is in the provider's bucket."""
    if kit.provider == "wunderlist":
        url = kit.sandbox.contexts["wunderlist"].public_url
        upload = httpx.get(f"{url}/_sandbox/uploads/{session.remote['upload_id']}", timeout=30)
        return str(upload.json()["key"])
    if kit.provider == "fileflare":
        url = kit.sandbox.contexts["fileflare"].public_url
        assets = httpx.get(f"{url}/_sandbox/assets", timeout=30).json()
        (asset,) = [a for a in assets if a["id"] == session.remote["asset_id"]]
        return str(asset["key"])
    return str(session.remote["key"])


def make_gone(kit: ProviderKit, session: Session) -> None:
    """The provider's own record of the upload removed server-side, by its own rules."""
    remote = session.remote
    if kit.provider == "wunderlist":  # collected by the API's GC at its next call
        kit.sandbox.contexts["wunderlist"].options["upload_lifetime"] = 0
    elif kit.provider == "polar":  # deleted in Polar
        assert api(kit, "DELETE", f"/v1/files/{remote['file_id']}").status_code == 204
    else:  # cancelled in Fileflare
        cancelled = api(
            kit,
            "POST",
            f"/api/v1/assets/{remote['asset_id']}/cancel",
            json={"upload_id": remote["upload_id"]},
        )
        assert cancelled.is_success, cancelled.text


@pytest.mark.parametrize("provider", ["wunderlist", "polar", "fileflare"])
def test_the_providers_own_gone_answer_stops_and_resume_starts_over(
    kit_factory: Kits, tmp_path: Path, provider: str
) -> None:
    kit = kit_factory(provider)
    if provider == "fileflare":
        kit.sandbox.contexts["fileflare"].options["chunk_size"] = 5 * MiB
    path = make_file(tmp_path / f"{provider}-own-gone.bin", 12 * MiB, seed=43)
    first = kit.upload(path, "--part-size", "5MiB", "--no-complete")
    assert first.summary["state"] == "uploaded", first.err
    session_id = first.summary["session"]
    session, _ = stored(kit, session_id)
    gone_id = str(session.remote["upload_id"])
    make_gone(kit, session)

    assert_stopped_gone(kit, kit.cli("complete", session_id[:8]), session_id)
    kit.sandbox.contexts[provider].options.pop("upload_lifetime", None)
    session = resume_lands(kit, session_id, gone_id)
    backend = kit.sandbox.backends[provider]
    assert asyncio.run(backend.read(s3_key(kit, session))) == path.read_bytes()


# -- Gumroad: S3's NoSuchUpload, passed on by Gumroad's complete ------------------------------


def test_gumroad_complete_of_an_upload_aborted_on_s3_starts_over(
    kit_factory: Kits, tmp_path: Path
) -> None:
    kit = kit_factory("gumroad")
    path = make_file(tmp_path / "gumroad-gone.bin", 1 * MiB + 7, seed=44)
    first = kit.upload(path, "--no-complete")
    assert first.summary["state"] == "uploaded", first.err
    session_id = first.summary["session"]
    session, _ = stored(kit, session_id)
    gone_id, key = str(session.remote["upload_id"]), str(session.remote["key"])
    backend = kit.sandbox.backends["gumroad"]
    asyncio.run(backend.abort(key, gone_id))  # a lifecycle rule, say

    assert_stopped_gone(kit, kit.cli("complete", session_id[:8]), session_id)
    before = {u for u, _ in kit.faults.part_puts}
    resumed = kit.cli("resume", session_id[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    session, _ = stored(kit, session_id)
    assert session.remote["upload_id"] != gone_id
    (put_to,) = {u for u, _ in kit.faults.part_puts} - before
    assert kit.faults.puts_for(put_to) == {1: 1}
    assert asyncio.run(backend.read(str(session.remote["key"]))) == path.read_bytes()
