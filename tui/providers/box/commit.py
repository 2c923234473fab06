"""Committing a Box upload session, and finding its file when an answer was lost.

Commit checks list_parts first (Box must hold exactly our parts), waits out 202s (parts
still processing), retries server errors with backoff, and after an ambiguous failure
looks in the folder for a file with the same name and SHA-1 before saying anything.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

from tui.core.errors import CompleteUnknown, RejectedError, RemoteError, TransientError
from tui.core.model import Part, Session
from tui.core.transfer import retry_after
from tui.providers.box.answers import SHA1_HEX, json_object, load_json, parse_committed
from tui.providers.box.api import LIST_LIMIT, LIST_MAX_OFFSET, BoxApi, digest_header
from tui.providers.box.errors import raise_for_box

COMMIT_TRIES = 3
"""Commits sent after server errors or network failures before looking in the folder."""
COMMIT_BACKOFF = 1.0
"""Seconds before the second commit after a failure; doubled for each further one."""
COMMIT_ACCEPTED_TRIES = 20
"""Commits answered 202 (parts still processing) before partdeck stops waiting."""
ACCEPTED_WAIT_DEFAULT = 5.0
"""Seconds to wait after a 202 that has no usable Retry-After."""
ACCEPTED_WAIT_CAP = 60.0
"""Longest single wait a 202's Retry-After may ask for."""


class BoxCommit:
    """Commit and look-up calls for sessions of one account, uploading into ``folder_id``."""

    def __init__(self, api: BoxApi, folder_id: str) -> None:
        self._api = api
        self.folder_id = folder_id
        """The folder a session whose journal names none was opened in."""

    async def complete(self, session: Session, parts: Sequence[Part]) -> str | None:
        """Check list_parts, then commit, waiting out 202s; a lost answer is looked up."""
        sha1 = session.digests.get("sha1")
        if not sha1 or not SHA1_HEX.match(sha1):
            raise RejectedError(
                f"commit: the whole-file SHA-1 is missing; run partdeck complete "
                f"{session.id[:8]} again"
            )
        try:
            body = await self._commit_body(session, parts)
        except RejectedError as exc:
            if exc.status == 404 and session.complete_sent > 1:
                # An earlier commit may have landed and closed the session.
                found = await self._look(session, sha1)
                if found is not None:
                    return found
                raise self._gone_after_commit(session) from None
            raise
        return await self._commit(session, body, sha1)

    async def _commit_body(self, session: Session, parts: Sequence[Part]) -> dict[str, Any]:
        """The commit's part list, from what Box lists: it must hold exactly our parts."""
        listed = await self._api.list_parts(session)
        total = session.remote.get("total_parts", len(parts))
        by_offset = {p.offset: p for p in listed}
        entries: list[dict[str, Any]] = []
        missing: list[int] = []
        for part in sorted(parts, key=lambda p: p.start):
            held = by_offset.get(part.start)
            if held is None or held.size != part.size or held.sha1 != part.sha1:
                missing.append(part.number)
                continue
            entries.append(
                {
                    "part_id": held.part_id,
                    "offset": held.offset,
                    "size": held.size,
                    "sha1": held.sha1,
                }
            )
        if len(listed) != total or missing:
            shown = ", ".join(map(str, missing[:8])) + (" …" if len(missing) > 8 else "")
            lacking = f" and lacks part(s) {shown}" if missing else ""
            raise RejectedError(
                f"commit: Box holds {len(listed)} of the {total} parts{lacking}; run partdeck "
                f"resume {session.id[:8]} to send what is missing"
            )
        return {"parts": entries}

    async def _commit(self, session: Session, body: dict[str, Any], sha1: str) -> str:
        url = self._api.endpoint(session, "commit")
        file_name = str(session.remote.get("file_name", os.path.basename(session.path)))
        headers = {"Digest": digest_header(sha1)}
        failures = accepted = 0
        sent_before = session.complete_sent > 1
        last: RemoteError | None = None
        while True:
            try:
                response = await self._api.send("POST", url, json_body=body, headers=headers)
            except TransientError as exc:
                response, last = None, exc
            if response is not None and response.status_code == 202:
                accepted += 1
                if accepted >= COMMIT_ACCEPTED_TRIES:
                    raise CompleteUnknown(
                        f"commit: Box was still processing the parts after {accepted} tries; "
                        f"run partdeck complete {session.id[:8]} again later"
                    )
                wait = retry_after(response)
                wait = ACCEPTED_WAIT_DEFAULT if wait is None else wait
                await asyncio.sleep(min(ACCEPTED_WAIT_CAP, wait))
                continue
            if response is not None and response.status_code in (200, 201):
                try:
                    file_id, name = parse_committed(response.content)
                    return f"box file {file_id[:64]} ({name[:255]})"
                except RemoteError as exc:
                    # A success status without Box's file in the body may come from
                    # something in between: only the folder can say if the file is there.
                    found = await self._look(session, sha1)
                    if found is not None:
                        return found
                    last = exc
            if response is not None and response.status_code == 404 and (failures or sent_before):
                # An earlier commit may have landed and closed the session: look for the file.
                found = await self._look(session, sha1)
                if found is not None:
                    return found
                raise self._gone_after_commit(session)
            if response is not None:
                try:
                    raise_for_box(response, "commit", file_name=file_name)
                except TransientError as exc:
                    last = exc
            failures += 1
            if failures >= COMMIT_TRIES:
                break
            await asyncio.sleep(COMMIT_BACKOFF * 2.0 ** (failures - 1))
        found = await self._look(session, sha1)
        if found is not None:
            return found
        folder = session.remote.get("folder_id", self.folder_id)
        said = last.settled if last else "no answer"
        raise CompleteUnknown(
            f"commit: no clear answer from Box ({said}); look for the file {file_name} in "
            f"folder {folder}, then run partdeck complete {session.id[:8]} again if it is not there"
        )

    def _gone_after_commit(self, session: Session) -> RejectedError:
        """Box closed the session after a commit whose answer was lost, yet no such file."""
        folder = session.remote.get("folder_id", self.folder_id)
        name = session.remote.get("file_name", os.path.basename(session.path))
        return RejectedError(
            f"commit: Box no longer has the upload session and folder {folder} holds no file "
            f"{name} with this content; if it was moved or renamed it is there, else the "
            f"session expired: close it with partdeck abort {session.id[:8]} and upload the "
            "file again",
            status=404,
        )

    async def _look(self, session: Session, sha1: str) -> str | None:
        """``_find_committed``, where a folder that cannot be listed leaves it unknown."""
        try:
            return await self._find_committed(session, sha1)
        except RemoteError as exc:
            folder = session.remote.get("folder_id", self.folder_id)
            raise CompleteUnknown(
                f"commit: Box may already have the file, but folder {folder} could not be "
                f"listed ({exc.settled}); run partdeck complete {session.id[:8]} again to look "
                "once more"
            ) from None

    async def _find_committed(self, session: Session, sha1: str) -> str | None:
        """The location of a file in the folder with this name and SHA-1, if Box has one."""
        folder = str(session.remote.get("folder_id", self.folder_id))
        file_name = session.remote.get("file_name", os.path.basename(session.path))
        offset = 0
        try:
            while offset <= LIST_MAX_OFFSET:
                response = await self._api.request(
                    "GET",
                    f"{self._api.base_url}/folders/{folder}/items",
                    "look for the file",
                    gone=f"Box folder {folder} is gone",
                    params={"fields": "name,size,sha1", "offset": offset, "limit": LIST_LIMIT},
                )
                data = json_object(load_json(response.content, "folder items"), "folder", "items")
                entries = data.get("entries")
                if not isinstance(entries, list) or not entries:
                    return None
                for entry in entries:
                    if (
                        isinstance(entry, dict)
                        and entry.get("type") == "file"
                        and entry.get("name") == file_name
                        and str(entry.get("sha1", "")).lower() == sha1
                        and isinstance(entry.get("id"), str)
                    ):
                        return f"box file {entry['id'][:64]} ({file_name})"
                offset += len(entries)
                total = data.get("total_count")
                if not isinstance(total, int) or offset >= total:
                    return None
        except RejectedError as exc:
            if exc.status == 404:  # the folder is gone, and the file with it
                return None
            raise
        return None

    async def find_completed(self, session: Session) -> str | None:
        """The committed file in the folder (same name and SHA-1), if Box has it."""
        sha1 = session.digests.get("sha1")
        if not sha1 or not SHA1_HEX.match(sha1):
            return None
        try:
            return await self._find_committed(session, sha1)
        except RemoteError:
            return None
