"""Only the service's own user may talk to it: the socket's 0700 directory keeps others
out, and each connection's peer uid (SO_PEERCRED) is checked again before a byte of HTTP
is read, in case the directory's permissions were loosened."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("partdeck.service")

_UCRED = struct.Struct("3i")
"""struct ucred: pid, uid, gid."""


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a unix socket; None if unknown."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    except (OSError, AttributeError):
        return None
    _pid, uid, _gid = _UCRED.unpack(raw)
    return int(uid)


class PeerCheckedProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections from any other user at once."""

    allowed_uid: int = os.getuid()
    """Set by the service before it listens (tests set another to see a refusal)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        uid = peer_uid(sock) if sock is not None else None
        self._refused = uid != self.allowed_uid
        if self._refused:
            log.warning("refused a connection from uid %s", uid)
            transport.abort()
            return
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._refused:
            super().connection_lost(exc)
