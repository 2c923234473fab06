"""Tests for tui.providers.s3xml: S3 error documents, status mapping and ETag receipts."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tui.core.errors import (
    CallUnsupported,
    RejectedError,
    RemoteError,
    TargetExpired,
    TransientError,
    UploadGone,
)
from tui.core.model import Part
from tui.providers.s3xml import (
    MAX_XML,
    error_of,
    etag_receipt,
    local_name,
    parse_xml,
    raise_for_s3,
    text,
)

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def error_doc(code: str, message: str, *, ns: bool = False) -> bytes:
    xmlns = f' xmlns="{NS}"' if ns else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error{xmlns}><Code>{code}</Code>'
        f"<Message>{message}</Message><RequestId>R1</RequestId></Error>"
    ).encode()


def s3_response(status: int, body: bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers)


# -- error_of / parse_xml --------------------------------------------------------------------


@pytest.mark.parametrize("ns", [False, True])
def test_error_of_reads_code_and_message(ns: bool) -> None:
    body = error_doc("NoSuchUpload", "The specified upload does not exist.", ns=ns)
    assert error_of(body) == ("NoSuchUpload", "The specified upload does not exist.")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"not xml at all",
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        b"<ListPartsResult><Code>X</Code></ListPartsResult>",
        b"<Error><Code>",  # truncated
    ],
)
def test_error_of_without_an_error_document(body: bytes) -> None:
    assert error_of(body) == (None, None)


def test_error_of_with_only_a_code() -> None:
    assert error_of(b"<Error><Code>SlowDown</Code></Error>") == ("SlowDown", None)


def test_parse_xml_reads_namespaced_answers() -> None:
    root = parse_xml(
        f'<InitiateMultipartUploadResult xmlns="{NS}"><UploadId>abc</UploadId>'
        "</InitiateMultipartUploadResult>".encode(),
        "open",
    )
    assert local_name(root) == "InitiateMultipartUploadResult"
    assert text(root, "UploadId") == "abc"
    assert text(root, "Missing") is None


@pytest.mark.parametrize("body", [b"<<<", b"<html><body>", b'{"json": true}', b"\x00\xff"])
def test_parse_xml_non_xml_is_transient(body: bytes) -> None:
    with pytest.raises(TransientError) as info:
        parse_xml(body, "complete")
    assert str(info.value) == "complete: the server's answer is not XML; will retry"


def test_parse_xml_huge_body_is_rejected() -> None:
    body = b"<a>" + b"x" * MAX_XML + b"</a>"
    with pytest.raises(RejectedError) as info:
        parse_xml(body, "list parts")
    assert not isinstance(info.value, TransientError)
    assert "too large" in str(info.value)


# -- raise_for_s3 ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 204, 206])
def test_raise_for_s3_success_returns(status: int) -> None:
    raise_for_s3(s3_response(status, b"<garbage"), "part 1")


@pytest.mark.parametrize("ns", [False, True])
def test_403_request_has_expired_is_target_expired(ns: bool) -> None:
    body = error_doc("AccessDenied", "Request has expired", ns=ns)
    with pytest.raises(TargetExpired) as info:
        raise_for_s3(s3_response(403, body), "part 4")
    assert info.value.status == 403
    assert info.value.code == "AccessDenied"
    assert str(info.value) == "part 4: the signed URL has expired"


def test_signature_does_not_match_is_rejected() -> None:
    body = error_doc(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    )
    with pytest.raises(RejectedError) as info:
        raise_for_s3(s3_response(403, body), "part 1")
    assert type(info.value) is RejectedError
    assert info.value.code == "SignatureDoesNotMatch"
    message = str(info.value)
    assert "clock" in message
    assert "keys" in message


def test_other_403_is_access_denied() -> None:
    body = error_doc("AccessDenied", "Access Denied")
    with pytest.raises(RejectedError) as info:
        raise_for_s3(s3_response(403, body), "open")
    assert type(info.value) is RejectedError
    assert "access denied" in str(info.value)
    assert "permissions" in str(info.value)


@pytest.mark.parametrize("ns", [False, True])
def test_no_such_upload_is_the_upload_gone(ns: bool) -> None:
    body = error_doc("NoSuchUpload", "The specified upload does not exist.", ns=ns)
    with pytest.raises(UploadGone) as info:
        raise_for_s3(s3_response(404, body), "part 2")
    assert info.value.code == "NoSuchUpload"
    assert info.value.status == 404
    assert str(info.value).startswith("part 2: the upload is gone on the server")


@pytest.mark.parametrize(
    ("status", "code"),
    [(501, "NotImplemented"), (405, "MethodNotAllowed"), (501, None), (405, None)],
)
def test_a_call_the_store_lacks_is_unsupported_not_transient(status: int, code: str | None) -> None:
    body = error_doc(code, "not here") if code else b""
    with pytest.raises(CallUnsupported) as info:
        raise_for_s3(s3_response(status, body), "list parts")
    assert info.value.status == status
    assert "will retry" not in str(info.value)
    assert str(info.value).startswith("list parts: the store does not support this call")


def test_no_such_bucket_is_rejected() -> None:
    with pytest.raises(RejectedError, match="bucket does not exist"):
        raise_for_s3(s3_response(404, error_doc("NoSuchBucket", "nope")), "open")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "InternalError"),
        (503, "SlowDown"),
        (503, "ServiceUnavailable"),
        (400, "RequestTimeout"),
        (400, "BadDigest"),
    ],
)
def test_transient_codes(status: int, code: str) -> None:
    with pytest.raises(TransientError) as info:
        raise_for_s3(s3_response(status, error_doc(code, "please retry")), "part 9")
    assert info.value.status == status
    assert info.value.code == code
    message = str(info.value)
    assert message.startswith(f"part 9: server said {status} ({code}: please retry)")
    assert message.endswith("will retry")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_html_5xx_is_transient(status: int) -> None:
    body = b"<html><head><title>Bad Gateway</title></head><body>nginx</body></html>"
    with pytest.raises(TransientError) as info:
        raise_for_s3(s3_response(status, body, **{"Content-Type": "text/html"}), "part 1")
    assert info.value.status == status


def test_503_with_retry_after_keeps_it() -> None:
    with pytest.raises(TransientError) as info:
        raise_for_s3(s3_response(503, b"", **{"Retry-After": "3"}), "part 1")
    assert info.value.retry_after == 3.0


def test_429_empty_body_is_transient() -> None:
    with pytest.raises(TransientError):
        raise_for_s3(s3_response(429), "part 1")


def test_html_4xx_is_rejected_with_status() -> None:
    with pytest.raises(RejectedError) as info:
        raise_for_s3(s3_response(400, b"<!DOCTYPE html><html>oops"), "open")
    assert type(info.value) is RejectedError
    assert str(info.value) == "open: server said 400"


def test_empty_body_404_is_rejected() -> None:
    with pytest.raises(RejectedError) as info:
        raise_for_s3(s3_response(404), "part 3")
    assert type(info.value) is RejectedError
    assert str(info.value) == "part 3: server said 404"
    assert info.value.code is None


def test_unknown_code_is_rejected_with_detail() -> None:
    body = error_doc("EntityTooSmall", "Your proposed upload is smaller than the minimum.")
    with pytest.raises(RejectedError) as info:
        raise_for_s3(s3_response(400, body), "complete")
    assert "EntityTooSmall" in str(info.value)
    assert "\n" not in str(info.value)


def test_multiline_server_message_becomes_one_line() -> None:
    body = error_doc("InvalidArgument", "line one\n   line two")
    with pytest.raises(RemoteError) as info:
        raise_for_s3(s3_response(400, body), "open")
    assert "\n" not in str(info.value)
    assert "line one line two" in str(info.value)


# -- etag_receipt ----------------------------------------------------------------------------

BODY = b"hello part"
MD5 = hashlib.md5(BODY).hexdigest()


def part(md5: str | None = MD5) -> Part:
    return Part(session_id="s", number=7, start=0, end=len(BODY), md5=md5)


@pytest.mark.parametrize("etag", [f'"{MD5}"', MD5, f'"{MD5.upper()}"', f' "{MD5}" '])
def test_etag_matching_md5_is_verified(etag: str) -> None:
    receipt = etag_receipt(part(), s3_response(200, ETag=etag), "part 7")
    assert receipt.verified
    assert receipt.etag == MD5


def test_hex_etag_mismatch_is_transient() -> None:
    other = hashlib.md5(b"other bytes").hexdigest()
    with pytest.raises(TransientError) as info:
        etag_receipt(part(), s3_response(200, ETag=f'"{other}"'), "part 7")
    message = str(info.value)
    assert other in message
    assert MD5 in message
    assert "again" in message


@pytest.mark.parametrize("etag", ['"abc-3"', f'"{MD5}-2"', "opaque"])
def test_opaque_etag_is_unverifiable(etag: str) -> None:
    receipt = etag_receipt(part(), s3_response(200, ETag=etag), "part 7")
    assert not receipt.verified
    assert receipt.etag == etag.strip('"')


def test_hex_etag_without_local_md5_is_unverifiable() -> None:
    receipt = etag_receipt(part(md5=None), s3_response(200, ETag=f'"{MD5}"'), "part 7")
    assert not receipt.verified
    assert receipt.etag == MD5


@pytest.mark.parametrize("headers", [{}, {"ETag": ""}])
def test_missing_etag_is_transient(headers: dict[str, str]) -> None:
    with pytest.raises(TransientError, match="no ETag"):
        etag_receipt(part(), s3_response(200, **headers), "part 7")


@pytest.mark.parametrize("etag", ['""', "   ", '" "'])
def test_blank_etag_is_transient(etag: str) -> None:
    with pytest.raises(TransientError, match="no ETag"):
        etag_receipt(part(), s3_response(200, ETag=etag), "part 7")


def test_etag_receipt_raises_for_failures_first() -> None:
    body = error_doc("AccessDenied", "Request has expired")
    with pytest.raises(TargetExpired):
        etag_receipt(part(), s3_response(403, body, ETag=f'"{MD5}"'), "part 7")
