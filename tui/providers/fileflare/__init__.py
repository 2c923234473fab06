"""Fileflare / Digital Downloads: the server chunks the file and presigns every part.

``POST /assets/signed`` answers with the server's byte ranges and one SigV4 presigned
S3 (MinIO) URL per part, all minted at once for 12 hours with no way to renew them;
parts go straight to S3 with no Content-Type; ``POST /assets/{id}/uploaded`` completes
the upload and ``POST /assets/{id}/cancel`` aborts it. Reference: providers.md section 5.

The package's modules: answers.py (the signed upload and its links, judged without
I/O), errors.py (failed answers mapped to RemoteErrors), api.py (calls with the key, and
a cancel seen through) and provider.py (the adapter). Pacing constants live, and are
patched, in the module that reads them.
"""

from tui.providers.fileflare.answers import (
    LINK_LIFETIME,
    MAX_JSON,
    MAX_PARTS,
    SignedUpload,
    UnusableAnswer,
    link_expiry,
    load_json,
    parse_signed,
    signed_ids,
)
from tui.providers.fileflare.api import ABORT_PAUSE, ABORT_TRIES, RATE_WAITS, FileflareApi
from tui.providers.fileflare.errors import (
    MAX_SHOWN,
    NOT_FILEFLARE,
    RATE_WAIT_CAP,
    error_for,
    error_text,
)
from tui.providers.fileflare.provider import (
    COMPLETE_PAUSE,
    ESTIMATED_PART,
    LIMITS,
    FileflareProvider,
    from_account,
)

__all__ = [
    "ABORT_PAUSE",
    "ABORT_TRIES",
    "COMPLETE_PAUSE",
    "ESTIMATED_PART",
    "LIMITS",
    "LINK_LIFETIME",
    "MAX_JSON",
    "MAX_PARTS",
    "MAX_SHOWN",
    "NOT_FILEFLARE",
    "RATE_WAITS",
    "RATE_WAIT_CAP",
    "FileflareApi",
    "FileflareProvider",
    "SignedUpload",
    "UnusableAnswer",
    "error_for",
    "error_text",
    "from_account",
    "link_expiry",
    "load_json",
    "parse_signed",
    "signed_ids",
]
