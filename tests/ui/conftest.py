"""Fixtures for Pilot tests: the real app on a real engine, against the sandbox over sockets.

One sandbox (S3 and Gumroad emulators on the shared moto server) serves the whole test
session; each test gets its own config, state dir and files in tmp_path, and the faults
are reset after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.integration.conftest import make_file
from tests.support.moto import MotoServer
from tui.config import load_config
from tui.runtime import open_engine
from tui.sandbox.faults import Faults, FaultSpec
from tui.sandbox.runner import Sandbox
from tui.ui.app import PartdeckApp
from tui.ui.themes import shipped_themes_dir

PROVIDERS = ("s3", "gumroad")
ENGINE: dict[str, Any] = {"parts_in_flight": 4, "parts_per_session": 4, "retries": 0}
"""Engine settings of the UI test configs: a failed part stays failed (no retries)."""


@pytest.fixture(scope="session")
def ui_sandbox(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The S3 and Gumroad emulators, shared by every UI test."""
    sandbox = Sandbox(
        state_dir=tmp_path_factory.mktemp("ui-sandbox"), s3_url=moto.url, providers=PROVIDERS
    ).start()
    yield sandbox
    sandbox.stop()


@dataclass
class Deck:
    """One test's world: the sandbox, a config for it, files, and the app's harness."""

    sandbox: Sandbox
    tmp_path: Path

    @property
    def state_dir(self) -> Path:
        return self.tmp_path / "state"

    def faults(self, provider: str = "s3") -> Faults:
        """A provider's live faults and PUT counts."""
        return self.sandbox.fault_state[provider]

    def set_faults(self, provider: str = "s3", **spec: Any) -> None:
        """Replace a provider's faults (and clear its counts)."""
        self.faults(provider).reset(FaultSpec(**spec))

    def file(self, name: str, size: int, seed: int = 1) -> Path:
        """A file of random bytes in the test's files directory."""
        (self.tmp_path / "files").mkdir(exist_ok=True)
        return make_file(self.tmp_path / "files" / name, size, seed)

    @asynccontextmanager
    async def app(
        self,
        *,
        size: tuple[int, int] = (120, 40),
        keys: dict[str, str] | None = None,
        theme: str | None = None,
        theme_dirs: list[Path] | None = None,
        **engine: Any,
    ) -> AsyncIterator[tuple[PartdeckApp, Pilot[None]]]:
        """The app on an engine for this test's config, running under Pilot."""
        path = self.sandbox.write_config(self.tmp_path / "config.toml", {**ENGINE, **engine})
        extra = ""
        if theme is not None:
            extra += f'\n[ui]\ntheme = "{theme}"\n'
        if keys:
            extra += "\n[keys]\n" + "".join(f'{k} = "{v}"\n' for k, v in keys.items())
        if extra:
            # [ui] and [keys] must come before the account tables
            path.write_text(extra.lstrip() + "\n" + path.read_text())
        config = load_config(path, must_exist=True)
        (self.tmp_path / "files").mkdir(exist_ok=True)
        async with open_engine(config, self.state_dir) as engine_:
            app = PartdeckApp(
                engine_,
                config,
                theme_dirs=theme_dirs if theme_dirs is not None else [shipped_themes_dir()],
                start_dir=self.tmp_path / "files",
            )
            async with app.run_test(size=size) as pilot:
                await pilot.pause()
                yield app, pilot


@pytest.fixture
def deck(ui_sandbox: Sandbox, tmp_path: Path) -> Iterator[Deck]:
    """This test's world; faults are cleared afterwards."""
    yield Deck(ui_sandbox, tmp_path)
    for faults in ui_sandbox.fault_state.values():
        faults.reset(FaultSpec())


async def until(
    pilot: Pilot[None], check: Callable[[], bool], what: str, limit: float = 30.0
) -> None:
    """Let the app run until ``check()`` holds; fail naming ``what`` after ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def notices(app: PartdeckApp) -> list[str]:
    """The text of every notification the app has shown and still holds."""
    return [n.message for n in app._notifications]


def row_text(app: PartdeckApp, session_id: str) -> dict[str, str]:
    """The sessions table's cells of one session, as plain text by column key."""
    from tui.ui.rows import SESSION_COLUMNS
    from tui.ui.widgets.sessions_table import SessionsTable

    table = app.main.query_one(SessionsTable)
    return {key: table.cell(session_id, key).text for key, _ in SESSION_COLUMNS}
