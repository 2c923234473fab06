"""What every emulator is built from: its token, faults, clock and (if any) S3 back end."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.sandbox.backend import S3Backend
from tui.sandbox.faults import Faults


@dataclass
class EmulatorContext:
    """Everything an emulator's ``create_app(ctx)`` needs; tests may change it live."""

    provider: str
    """``gumroad``, ``polar``, ``box``, ``fileflare`` or ``wunderlist``."""
    token: str = field(repr=False)
    """The one access token the emulator accepts (Bearer, or X-Access-Token); not in repr."""
    public_url: str
    """The emulator's own root URL, e.g. ``http://127.0.0.1:41234`` (for URLs it hands out)."""
    faults: Faults = field(default_factory=Faults, repr=False)
    """Part faults (Box) and counted faults (commit_202, abort_accepted, complete_lost);
    not in repr (it keeps the signatures requests carried)."""
    backend: S3Backend | None = None
    """The S3 back end (moto behind the checking gateway); None for Box."""
    clock: Callable[[], float] = time.time
    """Unix time; tests move it to expire links and sessions."""
    client_id: str = "sandbox-client"
    """Wunderlist: the X-Client-ID it accepts; Box: its OAuth app's client id."""
    client_secret: str = field(default="", repr=False)
    """Box: its OAuth app's client secret ("" refuses every token request)."""
    sign_in_code: str = field(default="", repr=False)
    """Box: an authorization code that works for as long as the sandbox runs."""
    jwt_public_key: str = ""
    """Box: the PEM public key its JWT app's assertions are checked with ("" for none)."""
    jwt_key_id: str = ""
    """Box: that key's id (the assertion's ``kid``)."""
    issued: list[str] = field(default_factory=list, repr=False)
    """Box: every access and refresh token its OAuth endpoints handed out (the secrets
    suite looks for each of them)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Switches for behaviours the reference leaves open, e.g.
    ``{"repeat_complete": "nosuchupload"}`` (MinIO) or ``"succeed"`` (AWS)."""

    def require_backend(self) -> S3Backend:
        """The S3 back end; a programming error if this emulator has none."""
        if self.backend is None:
            raise RuntimeError(f"the {self.provider} emulator needs an S3 back end")
        return self.backend
