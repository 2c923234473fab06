"""Polar over real sockets: the adapter against the emulator, the gateway and moto."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tests.support.crash import kill_once_verified
from tui.config import load_config
from tui.core.digest import hash_range
from tui.core.errors import RejectedError
from tui.core.journal import Journal
from tui.core.model import Part, Session
from tui.core.units import MiB
from tui.providers.polar import ABORT_NOTE, PolarProvider
from tui.providers.s3 import multipart_etag
from tui.runtime import open_engine

Kits = Callable[[str], ProviderKit]
EXPIRED = "Polar cannot renew part links: abort and upload again"


# -- helpers ---------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _journal(kit: ProviderKit) -> tuple[Session, list[Part]]:
    journal = Journal.open(kit.state_dir)
    try:
        session = journal.sessions()[0]
        return session, journal.parts(session.id)
    finally:
        journal.close()


def _api(kit: ProviderKit, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Call the emulator as a client of Polar's API would, with the sandbox token."""
    ctx = kit.sandbox.contexts["polar"]
    headers = {"Authorization": f"Bearer {ctx.token}"}
    return httpx.request(method, f"{ctx.public_url}{path}", headers=headers, timeout=30, **kwargs)


def _calls(kit: ProviderKit) -> dict[str, int]:
    calls: dict[str, int] = _api(kit, "GET", "/_sandbox/stats").json()["calls"]
    return calls


def _listed(kit: ProviderKit, file_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _api(kit, "GET", "/v1/files/", params={"ids": file_id}).json()[
        "items"
    ]
    return items


def _part_events(result: Any, number: int) -> list[dict[str, Any]]:
    return [e for e in result.json_lines() if e.get("event") == "part" and e.get("part") == number]


def _provider(kit: ProviderKit, client: httpx.AsyncClient, **kwargs: Any) -> PolarProvider:
    ctx = kit.sandbox.contexts["polar"]
    options: dict[str, Any] = {"base_url": ctx.public_url, "token": ctx.token, **kwargs}
    return PolarProvider(client, **options)


# -- the round trip --------------------------------------------------------------------------


def test_upload_completes_with_every_checksum(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("polar")
    path = make_file(tmp_path / "polar sample.bin", 12 * MiB + 5, seed=1)
    data = path.read_bytes()
    result = kit.upload(path)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"

    session, parts = _journal(kit)
    # The web uploader's 10,000,000 B parts, ceil(size / chunk) of them.
    assert [(p.start, p.end) for p in parts] == [(0, 10_000_000), (10_000_000, len(data))]
    assert session.digests["sha256"] == hashlib.sha256(data).hexdigest()
    for p in parts:
        assert p.sha256 == hashlib.sha256(data[p.start : p.end]).hexdigest()
        assert p.etag == f'"{hashlib.md5(data[p.start : p.end]).hexdigest()}"'
        assert p.state == "verified"
    remote = session.remote
    org = remote["organization_id"]
    assert remote["key"] == f"downloadable/{org}/{remote['file_id']}/polar sample.bin"
    assert session.location == result.summary["location"]
    assert remote["file_id"] in session.location

    backend = kit.sandbox.backends["polar"]
    assert asyncio.run(backend.read(remote["key"])) == data
    [listed] = _listed(kit, remote["file_id"])
    assert listed["is_uploaded"] is True
    assert listed["checksum_sha256_base64"] == _b64(data)
    assert listed["checksum_sha256_hex"] == hashlib.sha256(data).hexdigest()
    md5s = [hashlib.md5(data[p.start : p.end]).hexdigest() for p in parts]
    assert listed["checksum_etag"] == f'"{multipart_etag(md5s)}"'
    assert kit.faults.puts_for(remote["upload_id"]) == {1: 1, 2: 1}


def test_a_failed_part_is_retried_alone(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("polar")
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "retry.bin", 12 * MiB, seed=2)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.code == 1
    assert first.summary["state"] == "failed"
    session, parts = _journal(kit)
    assert {p.number: str(p.state) for p in parts} == {1: "verified", 2: "failed", 3: "verified"}
    upload_id = session.remote["upload_id"]
    assert kit.faults.puts_for(upload_id) == {1: 1, 2: 3, 3: 1}

    retried = kit.cli("retry", session.id[:8], "--json")
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    assert kit.faults.puts_for(upload_id) == {1: 1, 2: 4, 3: 1}
    backend = kit.sandbox.backends["polar"]
    assert asyncio.run(backend.read(session.remote["key"])) == path.read_bytes()


# -- abort: Polar deletes the record and the object, never the multipart upload -------------


def test_abort_deletes_the_record_and_leaves_the_parts_to_lifecycle(
    kit_factory: Kits, tmp_path: Path
) -> None:
    kit = kit_factory("polar")
    path = make_file(tmp_path / "abort.bin", 11 * MiB, seed=3)
    sent = kit.upload(path, "--part-size", "5MiB", "--no-complete")
    assert sent.code == 0, sent.err
    assert sent.summary["state"] == "uploaded"
    session, _ = _journal(kit)
    file_id, key, upload_id = (session.remote[k] for k in ("file_id", "key", "upload_id"))

    aborted = kit.cli("abort", session.id[:8], "--json")
    assert aborted.code == 0, aborted.err
    assert aborted.summary["state"] == "aborted"
    notes = [
        e["message"]
        for e in aborted.json_lines()
        if e.get("event") == "session" and e.get("state") == "aborted"
    ]
    assert notes == [ABORT_NOTE]
    assert "stay in Polar's storage until its lifecycle rules remove them" in ABORT_NOTE

    # The record is gone: not listed, and Polar no longer knows the id.
    assert _listed(kit, file_id) == []
    again = _api(kit, "DELETE", f"/v1/files/{file_id}")
    assert again.status_code == 404
    assert again.json() == {"type": "FileNotFound", "detail": f"No file exists with ID: {file_id}"}
    # What the reference says stays behind: no object, but the open multipart upload
    # with every part sent.
    backend = kit.sandbox.backends["polar"]
    assert asyncio.run(backend.head(key)) is None
    assert asyncio.run(backend.uploads(key)) == [(key, upload_id)]
    held = asyncio.run(backend.parts(key, upload_id))
    assert [(p.number, p.size) for p in held] == [(1, 5 * MiB), (2, 5 * MiB), (3, 1 * MiB)]

    # The bucket's lifecycle rule is what finally removes them.
    ctx = kit.sandbox.contexts["polar"]
    ctx.options["abort_incomplete_after"] = 24 * 3600
    kit.sandbox.time_offset = 24 * 3600 + 1
    assert _api(kit, "GET", "/v1/files/").status_code == 200  # any call runs the sweep
    assert asyncio.run(backend.uploads(key)) == []


# -- crash and resume ------------------------------------------------------------------------


def test_resume_after_sigkill_sends_no_verified_part_again(
    kit_factory: Kits, tmp_path: Path
) -> None:
    kit = kit_factory("polar")
    slow = kit.write_config(
        "slow.toml", parts_in_flight=1, parts_per_session=1, bandwidth_limit="6MiB"
    )
    path = make_file(tmp_path / "killed.bin", 20 * MiB + 1234, seed=4)
    argv = kit.argv("upload", path, "--account", kit.account, "--part-size", "5MiB", config=slow)
    session_id, _ = kill_once_verified(argv, kit.state_dir)
    session, parts = _journal(kit)
    verified = {p.number for p in parts if p.state == "verified"}
    assert 1 <= len(verified) < 5
    assert session.state in ("uploading", "stalled")
    upload_id = session.remote["upload_id"]
    before = kit.faults.puts_for(upload_id)

    resumed = kit.cli("resume", session_id[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    after = kit.faults.puts_for(upload_id)
    assert all(after[n] == before[n] for n in verified), (before, after)
    assert set(after) == {1, 2, 3, 4, 5}
    backend = kit.sandbox.backends["polar"]
    assert asyncio.run(backend.read(session.remote["key"])) == path.read_bytes()


# -- Polar's own failures --------------------------------------------------------------------


def test_bytes_that_miss_the_signed_checksum_fail_the_part_clearly(
    kit_factory: Kits, tmp_path: Path
) -> None:
    """S3 refuses a part whose bytes do not hash to the SHA-256 Polar signed (BadDigest).

    The journal's digest of part 2 is made wrong before the session opens (as a bad
    read during hashing would), so Polar signs that value and S3 refuses the real bytes.
    """
    kit = kit_factory("polar")
    path = make_file(tmp_path / "digest.bin", 12 * MiB, seed=5)

    async def plan() -> str:
        config = load_config(kit.config)
        async with open_engine(config, kit.state_dir) as engine:
            planned = await engine.plan(path, kit.account, 5 * MiB)
            return planned.id

    session_id = asyncio.run(plan())
    journal = Journal.open(kit.state_dir)
    try:
        part = journal.parts(session_id)[1]
        real = hash_range(str(path), part.start, part.end, {"md5"})
        part.xxh3, part.md5 = real.xxh3, real.md5
        part.sha256 = hashlib.sha256(b"not these bytes").hexdigest()
        journal.commit(parts=[part])
    finally:
        journal.close()

    result = kit.cli("resume", session_id[:8], "--json")
    assert result.code == 1
    assert result.summary["state"] == "failed"
    [failed] = [e for e in _part_events(result, 2) if e.get("state") == "failed"]
    message = failed["message"]
    assert message.startswith(
        "part 2: Polar's storage refused the bytes because their SHA-256 is not the one signed "
        "into the part link at create (BadDigest)"
    )
    assert "\n" not in message
    session, parts = _journal(kit)
    assert {p.number: str(p.state) for p in parts} == {1: "verified", 2: "failed", 3: "verified"}
    assert not session.final  # retry and abort still work on it
    assert kit.faults.puts_for(session.remote["upload_id"]) == {1: 1, 2: 1, 3: 1}


def test_emulator_refuses_uploaded_checksums_other_than_create(
    kit_factory: Kits, tmp_path: Path
) -> None:
    """S3 holds each part's checksum from its signed PUT: another at complete is InvalidPart,
    which Polar does not catch (a bare 500); the file stays not uploaded."""
    kit = kit_factory("polar")
    data = os.urandom(1 * MiB)
    created = _api(
        kit,
        "POST",
        "/v1/files/",
        json={
            "name": "x.bin",
            "mime_type": "application/octet-stream",
            "size": len(data),
            "service": "downloadable",
            "upload": {
                "parts": [
                    {
                        "number": 1,
                        "chunk_start": 0,
                        "chunk_end": len(data),
                        "checksum_sha256_base64": _b64(data),
                    }
                ]
            },
        },
    ).json()
    [part] = created["upload"]["parts"]
    assert part["headers"] == {
        "x-amz-checksum-sha256": _b64(data),
        "x-amz-sdk-checksum-algorithm": "SHA256",
    }
    put = httpx.put(part["url"], content=data, headers=part["headers"], timeout=30)
    assert put.status_code == 200
    upload = created["upload"]
    body = {
        "id": upload["id"],
        "path": upload["path"],
        "parts": [{"number": 1, "checksum_etag": put.headers["ETag"]}],
    }
    wrong = {**body["parts"][0], "checksum_sha256_base64": _b64(b"other")}
    refused = _api(
        kit, "POST", f"/v1/files/{created['id']}/uploaded", json={**body, "parts": [wrong]}
    )
    assert (refused.status_code, refused.text) == (500, "Internal Server Error")
    assert _listed(kit, created["id"]) == []
    missing = _api(kit, "POST", f"/v1/files/{created['id']}/uploaded", json=body)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "parts", 0, "checksum_sha256_base64"]
    right = {**body["parts"][0], "checksum_sha256_base64": _b64(data)}
    done = _api(kit, "POST", f"/v1/files/{created['id']}/uploaded", json={**body, "parts": [right]})
    assert done.status_code == 200
    assert done.json()["is_uploaded"] is True


def test_lost_complete_answer_is_found_in_the_list(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("polar")
    kit.set_faults(complete_lost=1)
    path = make_file(tmp_path / "lost.bin", 6 * MiB, seed=6)
    before = _calls(kit)
    result = kit.upload(path)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    assert kit.faults.stats()["injected"] == {"complete_lost": 1}
    calls = _calls(kit)
    # One /uploaded (answered 500 after doing its work), then the list said it landed.
    assert calls["uploaded"] - before.get("uploaded", 0) == 1
    assert calls["list"] - before.get("list", 0) == 1
    session, _ = _journal(kit)
    assert session.complete_sent == 1
    assert [i["is_uploaded"] for i in _listed(kit, session.remote["file_id"])] == [True]
    backend = kit.sandbox.backends["polar"]
    assert asyncio.run(backend.read(session.remote["key"])) == path.read_bytes()


def test_an_expired_link_ends_its_part_as_expired(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("polar")
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "late.bin", 12 * MiB, seed=7)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.summary["state"] == "failed"
    session, _ = _journal(kit)

    kit.sandbox.time_offset = 700  # past the 600 s every part link was signed for
    late = kit.cli("retry", session.id[:8], "--json")
    assert late.code == 1
    [expired] = [e for e in _part_events(late, 2) if e.get("state") == "expired"]
    assert expired["message"] == f"part 2: its link has expired and {EXPIRED}"
    assert late.summary["state"] == "failed"
    assert "Polar cannot renew them" in late.summary["error"]
    _, parts = _journal(kit)
    assert str(parts[1].state) == "expired"


def test_links_too_short_for_the_link_speed_are_refused_before_open(
    kit_factory: Kits, tmp_path: Path
) -> None:
    kit = kit_factory("polar")
    tiny = kit.write_config("tiny.toml", link_speed="1KiB", parts_per_session=1)
    path = make_file(tmp_path / "too slow.bin", 12 * MiB, seed=8)
    before = _calls(kit).get("create", 0)
    result = kit.upload(path, "--part-size", "5MiB", config=tiny)
    assert result.code == 2
    assert result.err.startswith(
        "partdeck: 12 MiB cannot go to polar in time: its part links expire 10m00s after the "
        "upload opens and cannot be renewed"
    )
    assert result.err.count("\n") == 1
    assert _calls(kit).get("create", 0) == before  # nothing was created


def test_token_without_files_write_is_refused_clearly(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("polar")
    kit.sandbox.contexts["polar"].options["scopes"] = "files:read"
    path = make_file(tmp_path / "scope.bin", 1 * MiB, seed=9)
    result = kit.upload(path)
    assert result.code == 1
    assert result.summary["error"] == (
        "create file: the token lacks files:write; create an Organization Access Token with "
        "the files:write scope"
    )


def test_check_and_polar_refusals_over_the_wire(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("polar")

    async def run() -> None:
        async with httpx.AsyncClient() as client:
            assert (await _provider(kit, client).check()).startswith("Polar files API reachable")
            try:
                await _provider(kit, client, token="wrong").check()
            except RejectedError as exc:
                assert str(exc).startswith("check account: Polar rejected the token")
                assert "wrong" not in str(exc)
            else:
                raise AssertionError("a wrong token was accepted")
            # An organization token must not name an organization: Polar's 422, shown.
            provider = _provider(
                kit, client, organization_id="0f0e0d0c-0000-4000-8000-000000000000"
            )
            path = make_file(tmp_path / "org.bin", 10, seed=10)
            part = Part("s", 1, 0, 10, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
            session = Session("s", kit.account, "polar", str(path), 10, 0, 10)
            try:
                await provider.open(session, [part])
            except RejectedError as exc:
                assert str(exc) == (
                    "create file: Polar refused the request: body.organization_id: Setting "
                    "organization_id is disallowed when using an organization token."
                )
            else:
                raise AssertionError("organization_id with an organization token was accepted")

    asyncio.run(run())


def test_emulator_validates_like_polar(kit_factory: Kits) -> None:
    kit = kit_factory("polar")

    def create(**fields: Any) -> httpx.Response:
        body = {
            "name": "a.pdf",
            "mime_type": "application/pdf",
            "size": 10,
            "service": "downloadable",
            "upload": {"parts": [{"number": 1, "chunk_start": 0, "chunk_end": 10}]},
            **fields,
        }
        return _api(kit, "POST", "/v1/files/", json=body)

    def errors(response: httpx.Response) -> list[tuple[list[Any], str]]:
        assert response.status_code == 422, response.text
        return [(e["loc"], e["type"]) for e in response.json()["detail"]]

    # downloadable takes any type and size; a part without a checksum gets no headers.
    plain = create(size=50 * 2**30)
    assert plain.status_code == 200
    assert plain.json()["upload"]["parts"][0]["headers"] == {}
    assert plain.json()["size_readable"] == "50.0 GB"
    assert errors(create(service="product_media", size=11 * MiB)) == [
        (["body", "product_media", "mime_type"], "string_pattern_mismatch"),
        (["body", "product_media", "size"], "less_than_equal"),
    ]
    assert create(service="product_media", mime_type="image/png", size=MiB).status_code == 200
    assert errors(create(service="organization_avatar", mime_type="image/png", size=2 * MiB)) == [
        (["body", "organization_avatar", "size"], "less_than_equal")
    ]
    assert errors(create(service="nope")) == [(["body"], "union_tag_invalid")]
    many = [{"number": n, "chunk_start": 0, "chunk_end": 0} for n in range(1, 10_002)]
    assert errors(create(upload={"parts": many})) == [
        (["body", "downloadable", "upload", "parts"], "too_long")
    ]
    assert errors(create(size="ten", name=None)) == [
        (["body", "downloadable", "name"], "string_type"),
        (["body", "downloadable", "size"], "int_type"),
    ]
    listing = _api(kit, "GET", "/v1/files/", params={"ids": "not-a-uuid"})
    assert errors(listing) == [(["query", "ids", 0], "uuid_parsing")]
    ctx = kit.sandbox.contexts["polar"]
    anonymous = httpx.get(f"{ctx.public_url}/v1/files/", timeout=30)
    assert (anonymous.status_code, anonymous.json()) == (
        401,
        {"type": "Unauthorized", "detail": "Unauthorized"},
    )
