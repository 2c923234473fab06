"""Direct S3 with temporary credentials from the AWS chain: a profile whose
``credential_process`` hands out keys that live two seconds (the sandbox's S3 gateway
issues them as STS would, and refuses them with ExpiredToken once they run out), so an
upload of a few seconds outlives several of them and botocore renews them as it goes."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tui.core.units import MiB

Kits = Callable[[str], ProviderKit]

HAND_OUT = """\
import sys, urllib.request
with open(sys.argv[2], "a") as log:
    log.write(".")
answer = urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="POST"))
sys.stdout.write(answer.read().decode())
"""


def _temporary_profile(kit: ProviderKit, tmp_path: Path, seconds: float) -> tuple[Path, Path]:
    """A config whose sandbox-s3 takes keys from a credential_process; and its call log."""
    gateway = kit.sandbox.backends["s3"].public_url
    script = tmp_path / "hand_out.py"
    script.write_text(HAND_OUT)
    calls = tmp_path / "calls"
    url = f"{gateway}/_sandbox/temporary-keys?seconds={seconds}"
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        f"[temporary]\ncredential_process = {sys.executable} {script} {url} {calls}\n"
    )
    os.chmod(credentials, 0o600)
    config = kit.write_config(parts_in_flight=2, bandwidth_limit="6MB").read_text()
    table = config[config.index("[accounts.sandbox-s3]") :]
    table = table[: table.index("\n[", 1)] if "\n[" in table[1:] else table
    lines = [
        'profile = "temporary"' if line.startswith("profile")
        else f'credentials_file = "{credentials}"' if line.startswith("credentials_file")
        else line
        for line in table.splitlines()
    ]  # fmt: skip
    path = tmp_path / "temporary.toml"
    path.write_text(config.replace(table, "\n".join(lines) + "\n"))
    os.chmod(path, 0o600)
    return path, calls


def test_keys_that_expire_mid_upload_are_renewed(kit_factory: Kits, tmp_path: Path) -> None:
    kit = kit_factory("s3")
    config, calls = _temporary_profile(kit, tmp_path, seconds=2.0)
    path = make_file(tmp_path / f"temporary {uuid.uuid4().hex[:8]}.bin", 20 * MiB, seed=9)
    result = kit.upload(path, "--part-size", "5MiB", config=config)
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    # About 3.5 s of upload on keys that live 2 s: renewed more than once, by botocore.
    assert calls.read_text().count(".") >= 3


def test_keys_that_ran_out_are_refused_by_the_gateway(kit_factory: Kits) -> None:
    kit = kit_factory("s3")
    gateway = kit.sandbox.backends["s3"].public_url
    keys = httpx.post(f"{gateway}/_sandbox/temporary-keys?seconds=-1").json()
    assert keys["AccessKeyId"].startswith("ASIA") and keys["Version"] == 1
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{gateway}/{kit.sandbox.backends['s3'].bucket}/"
    for token, code in ((keys["SessionToken"], "ExpiredToken"), ("wrong", "InvalidToken")):
        request = AWSRequest(method="GET", url=url)
        credentials = Credentials(keys["AccessKeyId"], keys["SecretAccessKey"], token)
        S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
        answer = httpx.get(url, headers=dict(request.headers.items()))
        assert f"<Code>{code}</Code>" in answer.text, answer.text
