"""A session's parts through the service: read as stored, and fetched ahead of the first
frame (``prefetch_parts``), over the real socket of a service in this test's loop."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import in_process, secrets_for
from tui.core.journal import Journal
from tui.core.model import Part, PartState, Session, SessionState
from tui.core.units import MiB
from tui.service.attached import ServiceEngine
from tui.service.client import ServiceClient

OLDER, NEWER = "a" * 32, "b" * 32


def paused_sessions(state_dir: Path) -> None:
    """Two paused sessions of 30 parts in mixed states; NEWER was created last."""
    journal = Journal.open(state_dir)
    try:
        for created, sid in ((1e9, OLDER), (2e9, NEWER)):
            session = Session(
                sid,
                "moto",
                "s3",
                f"/nowhere/{sid[0]}.bin",
                30 * MiB,
                1,
                MiB,
                state=SessionState.PAUSED,
                remote={"upload_id": sid},
                created_at=created,
                updated_at=created,
            )
            states = (PartState.VERIFIED, PartState.FAILED, PartState.PENDING)
            parts = [
                Part(
                    sid,
                    n,
                    (n - 1) * MiB,
                    n * MiB,
                    states[n % 3],
                    attempts=n % 3,
                    xxh3=f"{n:016x}",
                    error="HTTP 500" if n % 3 == 1 else None,
                )
                for n in range(1, 31)
            ]
            journal.create(session, parts)
    finally:
        journal.close()


def stored(state_dir: Path, session_id: str) -> list[Part]:
    journal = Journal.open(state_dir)
    try:
        return journal.parts(session_id)
    finally:
        journal.close()


class CountingClient(ServiceClient):
    """A real client that counts the parts reads it sends, by session."""

    def __init__(self, socket: Path) -> None:
        super().__init__(socket)
        self.reads: dict[str, int] = {}

    async def get(self, path: str, **kwargs: Any) -> Any:
        if path.endswith("/parts"):
            sid = path.split("/")[2]
            self.reads[sid] = self.reads.get(sid, 0) + 1
        return await super().get(path, **kwargs)


async def test_a_prefetch_is_the_load_that_follows(config_file: Path, state_dir: Path) -> None:
    paused_sessions(state_dir)
    async with in_process(state_dir, config_file) as service:
        client = CountingClient(service.socket)
        engine = await ServiceEngine(client, state_dir, secrets_for).attach()
        try:
            assert engine.store.newest_session() == NEWER
            engine.prefetch_parts(NEWER)
            engine.prefetch_parts(NEWER)  # the same hint again starts nothing more
            parts = await engine.load_parts(NEWER)
            assert parts == stored(state_dir, NEWER)
            assert client.reads == {NEWER: 1}
            assert await engine.load_parts(NEWER) == parts  # a later load reads again
            assert client.reads == {NEWER: 2}
        finally:
            await engine.close()


async def test_a_dropped_prefetch_leaves_no_task_and_no_error(
    config_file: Path, state_dir: Path
) -> None:
    paused_sessions(state_dir)
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    async with in_process(state_dir, config_file) as service:
        engine = await ServiceEngine(ServiceClient(service.socket), state_dir, secrets_for).attach()
        try:
            engine.prefetch_parts(OLDER)
            engine.prefetch_parts(NEWER)  # drops the first
            assert await engine.load_parts(OLDER) == stored(state_dir, OLDER)
            engine.prefetch_parts(OLDER)  # left pending at close
        finally:
            await engine.close()
        left = [t for t in asyncio.all_tasks() if t.get_name() == "service-prefetch-parts"]
        assert left == [], "close() cancels the prefetch nobody took"
    gc.collect()
    await asyncio.sleep(0)
    assert reported == []


def test_the_journal_and_the_mirror_agree_on_the_newest(state_dir: Path) -> None:
    """The first frame's session is the newest by creation on both sides, ties by id, and
    the newest finished ones are picked by creation too (as the sessions table orders)."""
    from tui.service.mirror import Mirror, MirrorReads
    from tui.service.protocol import session_to_wire

    journal = Journal.open(state_dir)
    try:
        for sid, created, updated, state in (
            ("c" * 32, 5.0, 9.0, SessionState.COMPLETED),  # older, but updated last
            ("d" * 32, 7.0, 7.0, SessionState.ABORTED),
            ("f" * 32, 8.0, 8.0, SessionState.PAUSED),
            ("e" * 32, 8.0, 8.0, SessionState.PAUSED),  # same creation: the lower id wins
        ):
            journal.create(
                Session(
                    sid,
                    "moto",
                    "s3",
                    "/n.bin",
                    1,
                    1,
                    1,
                    state=state,
                    created_at=created,
                    updated_at=updated,
                ),
                [Part(sid, 1, 0, 1)],
            )
        mirror = Mirror()
        views = [{"session": session_to_wire(s)} for s in journal.sessions()]
        mirror.load({"sessions": views, "seq": 0})
        reads = MirrorReads(mirror)
        assert journal.newest_session() == reads.newest_session() == "e" * 32
        assert [s.id for s in journal.newest_finished(1)] == ["d" * 32]
        assert [s.id for s in reads.newest_finished(1)] == ["d" * 32]
        assert [s.id for s in reads.sessions()] == [s.id for s in journal.sessions()]
    finally:
        journal.close()
    empty = Journal.open(state_dir.parent / "empty")
    try:
        assert empty.newest_session() is None
    finally:
        empty.close()


def test_a_mirror_lets_go_of_the_parts_loaded_longest_ago(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past PARTS_KEPT parts, the oldest loads go (a part record for them is then not
    applied); the newest load always stays, however big."""
    from tui.service import mirror as mirror_module
    from tui.service.mirror import Mirror
    from tui.service.protocol import part_to_wire

    monkeypatch.setattr(mirror_module, "PARTS_KEPT", 10)
    mirror = Mirror()

    def parts(sid: str, count: int) -> list[Part]:
        return [Part(sid, n, n - 1, n) for n in range(1, count + 1)]

    mirror.set_parts("a", parts("a", 4), 1)
    mirror.set_parts("b", parts("b", 4), 2)
    mirror.set_parts("a", parts("a", 4), 3)  # loaded again: now the newest
    mirror.set_parts("c", parts("c", 4), 4)  # 12 held: b, loaded longest ago, goes
    assert list(mirror.parts) == ["a", "c"]
    assert mirror.loaded_parts("b") is None
    late = Part("b", 1, 0, 1, PartState.VERIFIED)
    mirror.apply({"seq": 5, "event": {"session_id": "b"}, "part": part_to_wire(late)})
    assert mirror.loaded_parts("b") is None
    mirror.set_parts("d", parts("d", 25), 6)  # bigger than the bound by itself
    assert list(mirror.parts) == ["d"]
