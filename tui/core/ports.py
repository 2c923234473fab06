"""The Provider protocol: what the engine asks of a provider, and what it gets back.

The engine drives every provider through this port and knows nothing else of them;
each adapter under ``tui.providers`` satisfies it. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from tui.core.model import Part, Session
from tui.core.plan import PartLimits

if TYPE_CHECKING:  # httpx costs a short command's start (~0.1 CPU-s); only typed here
    import httpx

__all__ = [
    "OpenedSession",
    "PartClientFactory",
    "PartTarget",
    "Provider",
    "ProviderFactory",
    "Receipt",
    "RemotePart",
    "RemoteUpload",
]


@dataclass(frozen=True)
class PartTarget:
    """Where and how to send one part."""

    url: str
    method: str = "PUT"
    headers: dict[str, str] = field(default_factory=dict)
    expires_at: float | None = None
    """Unix time after which the URL no longer works; None when it does not expire."""


@dataclass(frozen=True)
class Receipt:
    """What the provider confirmed for one part."""

    etag: str | None
    verified: bool
    """True when the server's digest matched ours; False when it cannot be checked."""


@dataclass(frozen=True)
class RemotePart:
    """A part as the server lists it."""

    number: int
    size: int
    etag: str | None
    digest: str | None = None
    """A digest the server reports for the part (Box: hex SHA-1; S3: the part's flexible
    checksum, base64), when it has one."""


@dataclass(frozen=True)
class RemoteUpload:
    """An incomplete upload as the server lists it."""

    key: str
    upload_id: str
    initiated: float | None
    parts: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class OpenedSession:
    """What a provider returns when it opens a remote session."""

    remote: dict[str, Any]
    """Everything a resume needs: upload id, key, endpoints, URLs with expiry."""
    location: str | None = None
    """Where the object will be, for people (no secrets)."""
    ranges: list[tuple[int, int]] | None = field(default=None)
    """Part boundaries the server chose, replacing the client's plan; None to keep it."""
    note: str | None = None
    """One line for people about how the session was opened (S3: the store refused
    flexible checksums, so it falls back to MD5); logged with the session's start."""


class Provider(Protocol):
    """One account's upload API, as the engine sees it."""

    name: ClassVar[str]
    title: ClassVar[str]
    """The provider's name as people write it, for messages (``Polar``, ``S3``)."""
    limits: PartLimits
    digests: frozenset[str]
    """Digests each part needs besides the xxh3 fingerprint (``md5``, ``sha1``, ``sha256``,
    or one of S3's CRCs), unless ``part_digests`` says otherwise for a session."""
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

    @property
    def learned(self) -> dict[str, str]:
        """What the provider found out about its store that holds for every later session
        (S3: that it refuses flexible checksums). The engine keeps it in the journal per
        account and hands it to the next provider built for the account (``learn``)."""
        ...

    def part_digests(self, session: Session) -> frozenset[str]:
        """The digests each part of ``session`` needs (known once it is opened, where the
        session chose them then: S3's checksum algorithm)."""
        ...

    def learn(self, facts: Mapping[str, str]) -> None:
        """Take up what an earlier provider of this account had ``learned``."""
        ...

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


ProviderFactory = Callable[[str], Provider]
"""Account name -> the Provider for it (raises ConfigError when the account is unusable)."""
PartClientFactory = Callable[[str, str], "httpx.AsyncClient"]
"""(Account name, part URL) -> the client that sends the part (it decides TLS checks)."""
