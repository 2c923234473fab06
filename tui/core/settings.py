"""Engine settings: the ``[engine]`` table of the config, as plain data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineSettings:
    """How hard the engine drives uploads."""

    parts_in_flight: int = 8
    """Parts being sent at once, across every session."""
    parts_per_session: int = 4
    """Parts being sent at once within one session."""
    part_size: int | None = None
    """Bytes per part where the client chooses; None lets each provider choose by file size."""
    retries: int = 5
    """Extra attempts for a part after a transient failure (connect error, timeout, 5xx, 429)."""
    auto_complete: bool = True
    """Complete a session as soon as every part is verified."""
    bandwidth_limit: int | None = None
    """Bytes per second across all transfers; None for no limit."""
    stall_after: float = 60.0
    """Seconds without progress after which an uploading session counts as stalled."""
    link_speed: int | None = None
    """Upload speed to plan with, bytes per second, for providers whose part links cannot be
    renewed; None uses the speed measured on the account's last upload."""
