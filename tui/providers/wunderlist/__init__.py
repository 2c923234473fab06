"""Wunderlist file uploads: an Upload resource over S3, with part credentials one at a time.

POST /uploads starts an S3 multipart upload and hands back the SigV2 credentials for
part 1; every later part's credentials come from GET /uploads/:id/parts when the engine
is about to send that part; PATCH /uploads/:id {"state": "finished"} assembles the file.
Part PUTs go to S3 with exactly the headers that were signed: an empty Content-Type, the
given Authorization and x-amz-date, and Content-MD5 when an md5sum was signed in. The API
cannot list parts and has no abort: the server garbage-collects unfinished uploads.

The package's modules: answers.py (the Upload resource and part credentials, read
defensively), errors.py (error bodies mapped to RemoteErrors) and provider.py (the
adapter). Pacing constants live, and are patched, in the module that reads them.
"""

from tui.providers.wunderlist.answers import (
    MAX_HEADER,
    MAX_TEXT,
    SIGNATURE_SKEW,
    PartCredentials,
    UploadAnswer,
    parse_finished,
    parse_time,
    parse_upload,
    read_json,
)
from tui.providers.wunderlist.errors import NO_PARTS, UPLOAD_GONE, USER_GONE, error_for
from tui.providers.wunderlist.provider import (
    ABORT_NOTE,
    CREDENTIAL_MARGIN,
    FINISH_PAUSE,
    FINISH_TRIES,
    WunderlistProvider,
    from_account,
)

__all__ = [
    "ABORT_NOTE",
    "CREDENTIAL_MARGIN",
    "FINISH_PAUSE",
    "FINISH_TRIES",
    "MAX_HEADER",
    "MAX_TEXT",
    "NO_PARTS",
    "SIGNATURE_SKEW",
    "UPLOAD_GONE",
    "USER_GONE",
    "PartCredentials",
    "UploadAnswer",
    "WunderlistProvider",
    "error_for",
    "from_account",
    "parse_finished",
    "parse_time",
    "parse_upload",
    "read_json",
]
