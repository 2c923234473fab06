"""``inspect``: the journal, the local file and the server joined into one diagnosis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from tui.core.diagnose import Diagnosis, diagnose, local_state
from tui.core.errors import ConfigError, RemoteError, UploadGone
from tui.core.gone import gone_diagnosis, recorded_gone
from tui.core.journal import Journal
from tui.core.model import Part, Session
from tui.core.ports import Provider, ProviderFactory, RemotePart


async def inspect_session(
    journal: Journal,
    providers: ProviderFactory,
    session: Session,
    parts: Sequence[Part],
    *,
    running: Callable[[], bool],
    clock: Callable[[], float],
) -> Diagnosis:
    """What stands between ``session`` and its end, and the fix: read off the event loop,
    asking the server only where its provider can list parts. ``running`` and ``clock``
    are read once everything is gathered."""
    events = await asyncio.to_thread(journal.events, session.id)
    local = await asyncio.to_thread(local_state, session)
    remote: list[RemotePart] | None = None
    server_error: str | None = None
    gone = not session.opened and recorded_gone(events)
    try:
        provider: Provider | None = providers(session.account)
    except ConfigError as exc:  # no secret, no account: still show journal and file
        provider, server_error = None, str(exc)
    if provider is not None and provider.can_list_parts and session.opened and not session.final:
        try:
            remote = await provider.remote_parts(session)
        except UploadGone:
            gone = True
        except RemoteError as exc:
            server_error = exc.settled
    diagnosis = diagnose(
        session,
        parts,
        events,
        local=local,
        remote=remote,
        server_error=server_error,
        can_list=provider is not None and provider.can_list_parts,
        renewable=provider is None or provider.renewable_targets,
        complete_once=provider is None or not provider.complete_repeatable,
        running=running(),
        now=clock(),
    )
    return gone_diagnosis(diagnosis) if gone else diagnosis
