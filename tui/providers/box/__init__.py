"""Box chunked upload sessions (``upload.box.com``), as the Box API reference describes them.

Box picks the part size when the session opens; every part carries a SHA-1 ``Digest`` and
an inclusive ``Content-Range``; parts cannot be overwritten, so after an ambiguous
failure the engine asks ``list_parts`` before sending again; commit carries the SHA-1 of
the whole file and may answer 202 (still processing) any number of times before 201.
There are no part URLs: the session's endpoints live 7 days, called verbatim.

The package's modules: answers.py (Box's JSON, read defensively), errors.py (its
refusals mapped to RemoteErrors), api.py (authenticated calls, session endpoints,
list_parts), commit.py (commit, its waits and the folder look-up after a lost answer)
and provider.py (the adapter composing them). Pacing constants live, and are patched,
in the module that reads them.
"""

from tui.providers.box.answers import (
    _ENDPOINTS as _ENDPOINTS,
)
from tui.providers.box.answers import (
    MAX_JSON,
    BoxPart,
    UploadSession,
    iso_time,
    load_json,
    parse_committed,
    parse_part,
    parse_parts_page,
    parse_session,
    parse_uploaded_part,
)
from tui.providers.box.api import LIST_LIMIT, LIST_MAX_OFFSET, BoxApi
from tui.providers.box.commit import (
    ACCEPTED_WAIT_CAP,
    ACCEPTED_WAIT_DEFAULT,
    COMMIT_ACCEPTED_TRIES,
    COMMIT_BACKOFF,
    COMMIT_TRIES,
    BoxCommit,
)
from tui.providers.box.errors import (
    DIGEST_MISMATCH,
    EXPIRED,
    SESSION_GONE,
    STORAGE_FULL,
    TOO_SMALL,
    error_of,
    raise_for_box,
)
from tui.providers.box.provider import (
    MAX_PARTS,
    MIN_SIZE,
    BoxProvider,
    describe,
    estimate_part_size,
    from_account,
)

__all__ = [
    "ACCEPTED_WAIT_CAP",
    "ACCEPTED_WAIT_DEFAULT",
    "COMMIT_ACCEPTED_TRIES",
    "COMMIT_BACKOFF",
    "COMMIT_TRIES",
    "DIGEST_MISMATCH",
    "EXPIRED",
    "LIST_LIMIT",
    "LIST_MAX_OFFSET",
    "MAX_JSON",
    "MAX_PARTS",
    "MIN_SIZE",
    "SESSION_GONE",
    "STORAGE_FULL",
    "TOO_SMALL",
    "BoxApi",
    "BoxCommit",
    "BoxPart",
    "BoxProvider",
    "UploadSession",
    "describe",
    "error_of",
    "estimate_part_size",
    "from_account",
    "iso_time",
    "load_json",
    "parse_committed",
    "parse_part",
    "parse_parts_page",
    "parse_session",
    "parse_uploaded_part",
    "raise_for_box",
]
