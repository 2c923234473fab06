"""The engine: plans sessions, drives their parts concurrently, and obeys commands.

``Engine`` (engine.py) is the public surface; the pieces it is composed of are
planning.py (a file split into parts, a session recorded), pipeline.py (one session from
plan to complete), scheduler.py (slots, backoff, the stall watchdog), events.py (each
change journaled, then told), with files.py, remote.py and finish.py for the local file,
the provider's side and the end of an upload.
"""

from tui.core.engine.engine import Engine
from tui.core.engine.events import Subscriber
from tui.core.engine.live import Progress
from tui.core.model import PlanPreview
from tui.core.ports import PartClientFactory, ProviderFactory

__all__ = [
    "Engine",
    "PartClientFactory",
    "PlanPreview",
    "Progress",
    "ProviderFactory",
    "Subscriber",
]
