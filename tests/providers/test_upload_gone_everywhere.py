"""An upload aborted on S3 behind a provider that hands out S3 part links.

Wunderlist, Polar and Fileflare send parts to presigned S3 URLs; when the multipart
upload behind them is aborted on the store (the sandbox's ``upload_gone`` fault), the
next part meets S3's 404 NoSuchUpload. partdeck stops on one line, keeps nothing of the
gone upload, and resume opens a new one through the provider's own API. What the gone
upload leaves on the provider (Polar's file, Fileflare's asset) is tidied, and the line
says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tui.core.units import MiB

LEFT = {
    "polar": re.compile(r"; Polar file (\S+) \(never uploaded\) was deleted$"),
    "fileflare": re.compile(r"; Fileflare asset (\S+) \(never completed\) was cancelled$"),
}
"""How the line names the record a gone S3 upload left on the provider, tidied."""


def assert_left_tidied(kit: ProviderKit, err: str) -> None:
    """Polar's file and Fileflare's asset are tidied and named; Wunderlist leaves none."""
    line = err.strip()
    if kit.provider not in LEFT:
        assert line.endswith("sends every part again"), line
        return
    found = LEFT[kit.provider].search(line)
    assert found is not None, line
    ctx = kit.sandbox.contexts[kit.provider]
    if kit.provider == "polar":  # Polar no longer has it: a second delete finds nothing
        headers = {"Authorization": f"Bearer {ctx.token}"}
        again = httpx.delete(f"{ctx.public_url}/v1/files/{found[1]}", headers=headers, timeout=30)
        assert again.status_code == 404
    else:
        assets = httpx.get(f"{ctx.public_url}/_sandbox/assets", timeout=30).json()
        (asset,) = [a for a in assets if a["id"] == found[1]]
        assert asset["state"] == "cancelled"


@pytest.mark.parametrize("provider", ["wunderlist", "polar", "fileflare"])
def test_a_gone_upload_stops_on_one_line_and_resume_starts_over(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path, provider: str
) -> None:
    kit = kit_factory(provider)
    if provider == "fileflare":
        kit.sandbox.contexts["fileflare"].options["chunk_size"] = 5 * MiB  # server-cut parts
    kit.set_faults(upload_gone=1)
    path = make_file(tmp_path / f"{provider}-gone.bin", 21 * MiB, seed=31)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.code == 1, first.err
    session = first.summary["session"]
    assert first.summary["state"] == "failed"
    assert first.err.count("\n") == 1
    assert "the upload is gone on the server" in first.err
    assert f"partdeck resume {session[:8]}" in first.err
    (gone_id,) = {u for u, _ in kit.faults.part_puts}
    assert set(kit.faults.puts_for(gone_id).values()) == {1}  # not retried into the void
    assert_left_tidied(kit, first.err)

    kit.set_faults()
    resumed = kit.cli("resume", session[:8], "--json")
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    (new_id,) = {u for u, _ in kit.faults.part_puts}
    assert new_id != gone_id
    assert set(kit.faults.puts_for(new_id).values()) == {1}
    assert len(kit.faults.puts_for(new_id)) >= 2  # every part went again, not only the rest
