"""The local file changing under an upload: nothing changed is sent, nothing completed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from tests.integration.conftest import CLI, make_file
from tests.support.faultproxy import FaultProxy
from tui.config import load_config
from tui.core.model import Event
from tui.core.units import MiB
from tui.runtime import open_engine, with_overrides


async def _upload_changing(config: Path, state_dir: Path, path: Path, change: str) -> str:
    cfg = load_config(config)
    settings = with_overrides(cfg.engine, parts_per_session=1, parts_in_flight=1)
    async with open_engine(cfg, state_dir, settings) as engine:
        session = await engine.plan(path, "moto", 5 * MiB)

        def on_event(event: Event) -> None:
            if event.kind == "part" and event.state == "verified" and event.part == 1:
                with path.open("r+b") as f:
                    f.seek(12 * MiB)
                    if change == "rewrite":
                        f.write(b"changed!")
                if change == "touch":
                    os.utime(path, ns=(1, 1))

        engine.subscribe(on_event)
        done = await engine.run(session.id)
        return f"{done.id} {done.state}"


def test_file_changed_between_parts(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, state_dir: Path, tmp_path: Path, s3: Any,
    bucket: str,
) -> None:  # fmt: skip
    path = make_file(tmp_path / "moving.bin", 15 * MiB)
    session, state = asyncio.run(
        _upload_changing(proxied_config, state_dir, path, "rewrite")
    ).split()
    assert state == "local-changed"
    assert not proxy.ops("complete")
    assert {s.part for s in proxy.ops("upload_part")} == {1}
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads")  # nothing discarded
    shown = cli("show", session, "--json", config=proxied_config).json_lines()
    assert "changed while it was being uploaded" in shown[0]["error"]
    assert shown[1]["state"] == "verified"
    verify = cli("verify", session, "--json", config=proxied_config)
    assert verify.code == 0  # part 1 still matches: only bytes not yet sent changed
    # So resuming sends the rest as the file is now, and the object matches the file.
    resumed = cli("resume", session, "--json", config=proxied_config)
    assert resumed.code == 0, resumed.out
    assert s3.get_object(Bucket=bucket, Key="up/moving.bin")["Body"].read() == path.read_bytes()
    assert [s.part for s in proxy.ops("upload_part")].count(1) == 1


def test_sent_bytes_changed_stops_resume(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, state_dir: Path, tmp_path: Path, s3: Any,
    bucket: str,
) -> None:  # fmt: skip
    path = make_file(tmp_path / "rewritten.bin", 15 * MiB)
    session, state = asyncio.run(
        _upload_changing(proxied_config, state_dir, path, "rewrite")
    ).split()
    assert state == "local-changed"
    with path.open("r+b") as f:
        f.write(b"part one differs now")
    verify = cli("verify", session, config=proxied_config)
    assert verify.code == 1
    assert "mismatched parts: 1" in verify.out
    resumed = cli("resume", session, "--json", config=proxied_config)
    assert resumed.code == 1
    assert resumed.summary["state"] == "local-changed"
    assert "part(s) 1 no longer match their fingerprints" in resumed.summary["error"]
    assert not proxy.ops("complete")
    assert len(proxy.ops("upload_part")) == 1


def test_touched_but_identical_file_resumes(
    cli: CLI, proxied_config: Path, proxy: FaultProxy, state_dir: Path, tmp_path: Path, s3: Any,
    bucket: str,
) -> None:  # fmt: skip
    path = make_file(tmp_path / "touched.bin", 15 * MiB)
    session, state = asyncio.run(_upload_changing(proxied_config, state_dir, path, "touch")).split()
    assert state == "local-changed"
    verify = cli("verify", session, config=proxied_config)
    assert verify.code == 0, verify.out + verify.err
    assert "1/1 fingerprinted parts match" in verify.out
    resumed = cli("resume", session, "--json", config=proxied_config)
    assert resumed.code == 0, resumed.out
    assert resumed.summary["state"] == "completed"
    assert s3.get_object(Bucket=bucket, Key="up/touched.bin")["Body"].read() == path.read_bytes()
    assert [s.part for s in proxy.ops("upload_part")].count(1) == 1
