"""Fixtures for provider tests: one sandbox per provider, over real sockets, on moto.

Each provider's tests get a sandbox serving only that provider (its emulator, its
bucket behind its own checking gateway), started once per test session on the shared
moto server. Faults and the clock offset are reset after every test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Result
from tests.support.moto import MotoServer
from tui.cli import main
from tui.sandbox.faults import Faults, FaultSpec
from tui.sandbox.runner import Sandbox

__all__ = ["ENGINE", "ProviderKit", "Result"]

ENGINE: dict[str, Any] = {"parts_in_flight": 4, "parts_per_session": 4, "retries": 2}
"""Engine settings of the test configs: small and quick to give up."""

_sandboxes: dict[str, Sandbox] = {}


@pytest.fixture(scope="session")
def sandboxes(
    moto: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Sandbox]]:
    """``sandboxes("box")``: the session's sandbox for one provider, started on first use."""

    def get(provider: str) -> Sandbox:
        if provider not in _sandboxes:
            state = tmp_path_factory.mktemp(f"sandbox-{provider}")
            _sandboxes[provider] = Sandbox(
                state_dir=state, s3_url=moto.url, providers=(provider,)
            ).start()
        return _sandboxes[provider]

    yield get
    for sandbox in _sandboxes.values():
        sandbox.stop()
    _sandboxes.clear()


class ProviderKit:
    """One provider's sandbox, a config for its ``sandbox-NAME`` account, and the CLI."""

    def __init__(
        self,
        provider: str,
        sandbox: Sandbox,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        self.provider = provider
        self.account = f"sandbox-{provider}"
        self.sandbox = sandbox
        self.tmp_path = tmp_path
        self.state_dir = tmp_path / "state"
        self._capsys = capsys
        self.config = self.write_config()

    @property
    def faults(self) -> Faults:
        """The provider's live faults (part uploads, counted faults, PUT counts)."""
        return self.sandbox.fault_state[self.provider]

    def set_faults(self, **spec: Any) -> None:
        """Replace the provider's fault spec (and clear its counts)."""
        self.faults.reset(FaultSpec(**spec))

    def write_config(self, name: str = "config.toml", **engine: Any) -> Path:
        """A config with the sandbox accounts and ``ENGINE`` overridden by ``engine``."""
        return self.sandbox.write_config(self.tmp_path / name, {**ENGINE, **engine})

    def cli(self, *args: str | os.PathLike[str], config: Path | None = None) -> Result:
        """Run ``partdeck ARGS`` in-process with this config and state dir."""
        self._capsys.readouterr()
        argv = [str(a) for a in args]
        argv += ["--config", str(config or self.config), "--state-dir", str(self.state_dir)]
        code = main(argv)
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def upload(self, path: Path, *extra: str, config: Path | None = None) -> Result:
        """``partdeck upload PATH --account sandbox-NAME --json EXTRA``."""
        return self.cli("upload", path, "--account", self.account, "--json", *extra, config=config)

    def argv(self, *args: str | os.PathLike[str], config: Path | None = None) -> list[str]:
        """A command line for a real ``partdeck`` child process with this config."""
        import sys

        return [
            sys.executable, "-m", "tui", *[str(a) for a in args],
            "--config", str(config or self.config), "--state-dir", str(self.state_dir),
        ]  # fmt: skip


@pytest.fixture
def kit_factory(
    sandboxes: Callable[[str], Sandbox], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[[str], ProviderKit]]:
    """``kit_factory("box")`` -> a ProviderKit; faults and clock are reset afterwards."""
    made: list[ProviderKit] = []

    def make(provider: str) -> ProviderKit:
        kit = ProviderKit(provider, sandboxes(provider), tmp_path, capsys)
        made.append(kit)
        return kit

    yield make
    for kit in made:
        kit.faults.reset(FaultSpec())
        kit.sandbox.time_offset = 0.0
        for ctx in kit.sandbox.contexts.values():
            ctx.options.clear()
