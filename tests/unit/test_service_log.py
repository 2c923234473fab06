"""service.log is rotated by size, and the descriptors that printed into it follow the
new file (a spawned service's stdout and stderr are that file)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tui.service import run
from tui.service.run import ServiceLog, _log_handler


def test_rotation_keeps_the_backups_and_moves_the_followed_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "LOG_BYTES", 2000)
    log = tmp_path / "service.log"
    printed = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # "stderr"
    handler = ServiceLog(log, follow=(printed,))
    logger = logging.Logger("test-service-log")
    logger.addHandler(handler)
    try:
        for n in range(200):
            logger.warning("record %03d %s", n, "x" * 40)
        os.write(printed, b"printed after the rotations\n")
    finally:
        handler.close()
        os.close(printed)
    backups = sorted(p.name for p in tmp_path.iterdir())
    assert backups == ["service.log", "service.log.1", "service.log.2", "service.log.3"]
    assert all((tmp_path / name).stat().st_size <= 2100 for name in backups)
    assert "printed after the rotations" in log.read_text()
    assert "record 199" in log.read_text()


def test_a_spawned_service_logs_to_the_rotated_file(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    with log.open("a") as stderr, pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", stderr)
        handler = _log_handler(tmp_path)
        assert isinstance(handler, ServiceLog)
        handler.close()
    handler = _log_handler(tmp_path)  # stderr is not the log: systemd or a terminal
    assert type(handler) is logging.StreamHandler
