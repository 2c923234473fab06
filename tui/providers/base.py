"""A base class with the common defaults of the Provider protocol (``tui.core.ports``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from tui.core.errors import UsageError
from tui.core.model import Part, Session
from tui.core.plan import PartLimits, choose_part_size
from tui.core.ports import Receipt, RemotePart, RemoteUpload


class BaseProvider:
    """Defaults for the optional parts of the protocol."""

    name: ClassVar[str] = "base"
    title: ClassVar[str] = "the provider"
    limits: PartLimits = PartLimits()
    digests: frozenset[str] = frozenset()
    digests_before_open: bool = False
    can_list_parts: bool = False
    file_digests: frozenset[str] = frozenset()
    server_part_size: bool = False
    renewable_targets: bool = True
    target_lifetime: float | None = None
    overwrites_parts: bool = True
    complete_repeatable: bool = True
    open_repeatable: bool = True

    @property
    def learned(self) -> dict[str, str]:
        """Nothing learnt: this provider's store behaves as its API says."""
        return {}

    def learn(self, facts: Mapping[str, str]) -> None:
        """Nothing to take up."""

    def part_digests(self, session: Session) -> frozenset[str]:
        """The same digests for every session."""
        return self.digests

    def part_size(self, size: int, requested: int | None) -> int:
        """The client picks, clamped to the provider's limits."""
        return choose_part_size(size, self.limits, requested)

    async def remote_parts(self, session: Session) -> list[RemotePart] | None:
        """This provider cannot list parts."""
        return None

    def remote_receipt(self, part: Part, remote: RemotePart) -> Receipt | None:
        """S3's rule: same size, and an ETag equal to the part's MD5."""
        etag = (remote.etag or "").strip('"').lower()
        if remote.size == part.size and part.md5 and etag == part.md5:
            return Receipt(etag=etag, verified=True)
        return None

    async def find_completed(self, session: Session) -> str | None:
        """This provider cannot show whether a complete took effect."""
        return None

    async def forget(self, session: Session) -> str | None:
        """Nothing of a gone upload is left on this provider."""
        return None

    def before_abort(self, session: Session) -> None:
        """Nothing to mark: this provider's abort does not depend on earlier ones."""

    async def list_uploads(self, prefix: str = "") -> list[RemoteUpload]:
        """This provider cannot list incomplete uploads."""
        raise UsageError(f"{self.name} accounts cannot list incomplete uploads on the server")

    async def abort_upload(self, key: str, upload_id: str) -> None:
        """This provider cannot abort an upload that is not in the journal."""
        raise UsageError(f"{self.name} accounts cannot abort uploads by id")
