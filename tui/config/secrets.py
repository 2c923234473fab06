"""Resolve an account's secret from where the config points: an environment variable, a
command, a file or an AWS shared-credentials profile. Every failure is one ConfigError line
naming the account (``label``), the config file (``source``) and the fix; none holds the
secret."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.errors import ConfigError

if TYPE_CHECKING:
    from botocore.credentials import Credentials

__all__ = [
    "ALLOW_INLINE_SECRETS_ENV",
    "MAX_TOKEN_FILE",
    "TOKEN_COMMAND_TIMEOUT",
    "check_credentials_file",
    "kill_group",
    "profile_credential_source",
    "profile_credentials",
    "read_token_file",
    "run_token_command",
]

ALLOW_INLINE_SECRETS_ENV = "PARTDECK_ALLOW_INLINE_SECRETS"
"""Set to ``1`` to accept an inline ``token`` in an account table."""
TOKEN_COMMAND_TIMEOUT = 30.0
"""Seconds a ``token_command`` may run before it is killed."""
MAX_TOKEN_FILE = 64 * 1024
"""Largest ``token_file`` read: a token is a line of text."""


def read_token_file(path: Path, *, label: str, source: str, key: str = "token_file") -> str:
    """The token (or the secret ``key`` names) in ``path``: a small regular file of UTF-8 text.

    It is opened without blocking and checked before it is read, so a FIFO or a
    device named by mistake is refused instead of waiting or reading forever.
    """
    fix = f"or change {key} in {source}"
    noun = "token" if key.startswith("token") else "secret"
    where = f"{label}: {key} {path}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(f"{where} does not exist; create it {fix}") from None
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read ({exc.strerror}); fix it {fix}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{where} is a directory; point it at the file {fix}")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(
                f"{where} is not a regular file (a pipe or device); put the {noun} in a file {fix}"
            )
        if info.st_size > MAX_TOKEN_FILE:
            raise ConfigError(
                f"{where} holds {info.st_size:,} bytes, too big for a {noun}; point it at "
                f"a file that holds only the {noun} {fix}"
            )
        raw = os.read(fd, MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read ({exc.strerror}); fix it {fix}") from None
    finally:
        os.close(fd)
    try:
        token = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"{where} cannot be read (not UTF-8 text); fix it {fix}") from None
    if not token:
        raise ConfigError(f"{label}: {key} {path} is empty; put the {noun} in it")
    return token


def run_token_command(command: str, *, label: str, source: str, key: str = "token_command") -> str:
    """The token (or the secret ``key`` names) ``command`` prints on stdout, run in a
    shell in its own process group."""
    fix = f"change {key} in {source}"
    noun = "token" if key.startswith("token") else "secret"
    try:
        # stderr is discarded: it might echo the secret, and it would scribble on the UI.
        proc = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise ConfigError(f"{label}: {key} could not be started ({exc.strerror}); {fix}") from None
    try:
        stdout, _ = proc.communicate(timeout=TOKEN_COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise ConfigError(
            f"{label}: {key} did not finish within "
            f"{TOKEN_COMMAND_TIMEOUT:g} s; make sure it runs without prompting, or {fix}"
        ) from None
    if proc.returncode < 0:
        raise ConfigError(
            f"{label}: {key} was killed by signal {-proc.returncode}; "
            f"run it in a shell to see why, or {fix}"
        )
    if proc.returncode != 0:
        raise ConfigError(
            f"{label}: {key} exited with status {proc.returncode}; "
            f"run it in a shell to see why, or {fix}"
        )
    token = stdout.decode("utf-8", errors="replace").strip()
    if not token:
        raise ConfigError(
            f"{label}: {key} printed nothing; it must print the {noun} on stdout, or {fix}"
        )
    return token


def profile_credentials(
    profile: str, credentials_file: Path | None, *, label: str, source: str
) -> tuple[str, str]:
    """Keys from a shared-credentials profile, resolved by botocore as the AWS CLI does."""
    frozen = profile_credential_source(
        profile, credentials_file, label=label, source=source
    ).get_frozen_credentials()
    return frozen.access_key, frozen.secret_key


def profile_credential_source(
    profile: str, credentials_file: Path | None, *, label: str, source: str
) -> Credentials:
    """botocore's credentials for a profile, as the AWS CLI resolves them: static keys, or
    refreshable ones (SSO, assume-role, credential_process, container or instance
    metadata) that botocore renews ahead of their expiry."""
    import botocore.session
    from botocore.exceptions import BotoCoreError

    session = botocore.session.Session(profile=profile)
    if credentials_file is not None:
        check_credentials_file(credentials_file, label=label, source=source)
        session.set_config_variable("credentials_file", str(credentials_file))
    where = credentials_file or "~/.aws/credentials"
    try:
        found = session.get_credentials()
    except BotoCoreError as exc:
        raise ConfigError(
            f"{label}: profile {profile!r} cannot be read from {where} ({exc}); "
            f"fix the profile or change profile in {source}"
        ) from None
    try:
        frozen = found.get_frozen_credentials() if found is not None else None
    except (BotoCoreError, ValueError) as exc:  # a credential_process that failed or
        # printed no JSON, an SSO login gone...
        raise ConfigError(
            f"{label}: profile {profile!r} gave no credentials ({exc}); fix the profile "
            f"(or sign in again, e.g. aws sso login) or change profile in {source}"
        ) from None
    if found is None or frozen is None or not frozen.access_key or not frozen.secret_key:
        raise ConfigError(
            f"{label}: profile {profile!r} has no keys in {where}; add "
            f"aws_access_key_id and aws_secret_access_key or change profile in {source}"
        )
    return found


def check_credentials_file(path: Path, *, label: str, source: str) -> None:
    """Say plainly when ``credentials_file`` is missing or is not a file (botocore
    would report a missing profile, or wait forever on a pipe)."""
    fix = f"or change credentials_file in {source}"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(
            f"{label}: credentials_file {path} does not exist; create it {fix}"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{label}: credentials_file {path} cannot be read ({exc.strerror}); fix it {fix}"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            f"{label}: credentials_file {path} is not a regular file; point it at "
            f"the shared credentials file {fix}"
        )


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a timed-out token command and anything it started, then reap it."""
    if sys.platform == "win32":
        proc.kill()
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
