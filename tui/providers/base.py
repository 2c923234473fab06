"""The Provider protocol the engine drives, and a base class with the common defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import httpx

from tui.core.errors import UsageError
from tui.core.model import Part, PartTarget, Receipt, RemotePart, RemoteUpload, Session
from tui.core.plan import PartLimits, choose_part_size


@dataclass(frozen=True)
class OpenedSession:
    """What a provider returns when it opens a remote session."""

    remote: dict[str, Any]
    """Everything a resume needs: upload id, key, endpoints, URLs with expiry."""
    location: str | None = None
    """Where the object will be, for people (no secrets)."""
    ranges: list[tuple[int, int]] | None = field(default=None)
    """Part boundaries the server chose, replacing the client's plan; None to keep it."""


class Provider(Protocol):
    """One account's upload API, as the engine sees it."""

    name: ClassVar[str]
    title: ClassVar[str]
    """The provider's name as people write it, for messages (``Polar``, ``S3``)."""
    limits: PartLimits
    digests: frozenset[str]
    """Digests each part needs besides the xxh3 fingerprint (``md5``, ``sha1``, ``sha256``)."""
    digests_before_open: bool
    """True when every part's digests must be known before the session opens."""
    can_list_parts: bool
    """True when ``remote_parts`` can say what the server holds."""
    file_digests: frozenset[str]
    """Whole-file digests the provider needs (``sha1``, ``sha256``), found in
    ``session.digests``: before ``open`` when ``digests_before_open``, else before ``complete``."""
    server_part_size: bool
    """True when the server picks the part size; ``part_size`` is then only an estimate
    (or the fixed size) and a requested size is ignored."""
    renewable_targets: bool
    """False when part links are all minted at open and cannot be renewed (Gumroad, Polar):
    a link that expires ends its part as ``expired``."""
    target_lifetime: float | None
    """Seconds the part links of a non-renewable provider live after open."""
    overwrites_parts: bool
    """False when a part cannot be sent twice (Box): after an ambiguous failure the engine
    asks ``remote_parts`` whether the part landed before sending it again."""
    complete_repeatable: bool
    """False when complete must be sent at most once per upload (Gumroad): after an
    unknown outcome only an explicit, forced complete sends it again."""
    open_repeatable: bool
    """False when a failed ``open`` may still have created something remote that cannot
    be found again (a new asset or upload per call): it is then repeated only when the
    request never reached the server or was refused with 429."""

    def part_size(self, size: int, requested: int | None) -> int:
        """The part size to plan with for a file of ``size`` bytes."""
        ...

    async def open(self, session: Session, parts: Sequence[Part]) -> OpenedSession:
        """Create the remote session for a planned session."""
        ...

    async def target(self, session: Session, part: Part) -> PartTarget:
        """Where and how to send ``part``: a fresh target when the old one expired."""
        ...

    def receipt(self, session: Session, part: Part, response: httpx.Response) -> Receipt:
        """Judge the server's answer to a part: a Receipt, or raise a RemoteError."""
        ...

    async def remote_parts(self, session: Session) -> list[RemotePart] | None:
        """Parts the server holds for this session, or None when the API cannot say."""
        ...

    def remote_receipt(self, part: Part, remote: RemotePart) -> Receipt | None:
        """Judge a part the server lists: a verified Receipt when it is our bytes, else None."""
        ...

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """Finish the upload; return the object's location for people."""
        ...

    async def forget(self, session: Session) -> str | None:
        """Best effort, when the upload is found gone: tidy what it leaves on the provider
        (a file record, an asset). Returns a note for people, or None (never raises)."""
        ...

    def before_abort(self, session: Session) -> None:
        """Mark in ``session.remote`` what ``abort`` must find on record should this abort
        be cut short; the engine commits it durably before any abort request leaves."""
        ...

    async def abort(self, session: Session) -> str | None:
        """Discard the remote upload, repeating as the provider needs until it is gone.

        Returns a note for people when the provider leaves something behind.
        """
        ...

    async def find_completed(self, session: Session) -> str | None:
        """Where the completed object is, when the server shows that complete took effect;
        None when it does not show it or the API cannot say (never raises)."""
        ...

    async def list_uploads(self, prefix: str = "") -> list[RemoteUpload]:
        """Incomplete uploads the server holds for this account."""
        ...

    async def abort_upload(self, key: str, upload_id: str) -> None:
        """Discard one incomplete upload by key and id (for uploads not in the journal)."""
        ...

    async def check(self) -> str:
        """A cheap call that proves the account works; returns a short description."""
        ...


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
