"""S3 flexible checksums, piece by piece: the headers a session sends, how an answer is
judged, what a refusal looks like, ListParts' values, and the gateway's full-object check.
The same run end to end against moto is in tests/integration/test_s3_checksums.py."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest

from tui.core import checksums
from tui.core.errors import CallUnsupported, RejectedError, TransientError
from tui.core.model import Part, Session
from tui.core.ports import RemotePart
from tui.providers.s3 import S3Provider, flexible
from tui.providers.s3.parse import parts_page
from tui.providers.s3xml import parse_xml
from tui.sandbox.s3checks import FullObjectChecks, Rejection

DATA = b"partdeck" * 1000


def _part(**digests: str) -> Part:
    return Part("s", 1, 0, len(DATA), **digests)  # type: ignore[arg-type]


def _answer(headers: dict[str, str], sent: dict[str, str]) -> httpx.Response:
    request = httpx.Request("PUT", "http://s3.test/k?partNumber=1", headers=sent)
    return httpx.Response(200, headers=headers, request=request)


def test_a_crc_session_declares_its_algorithm_and_full_object_type() -> None:
    assert flexible.create_headers("crc64nvme") == {
        "x-amz-checksum-algorithm": "CRC64NVME",
        "x-amz-checksum-type": "FULL_OBJECT",
    }
    assert flexible.create_headers("sha256")["x-amz-checksum-type"] == "COMPOSITE"
    assert flexible.create_headers("md5") == {}


def test_each_part_sends_its_value_or_its_content_md5() -> None:
    crc = checksums.checksum("crc64nvme", DATA)
    assert flexible.part_headers(_part(checksum=crc), "crc64nvme") == {
        "x-amz-checksum-crc64nvme": crc,
        "x-amz-sdk-checksum-algorithm": "CRC64NVME",
    }
    sha = hashlib.sha256(DATA).hexdigest()
    sent = flexible.part_headers(_part(sha256=sha), "sha256")
    assert sent["x-amz-checksum-sha256"] == base64.b64encode(hashlib.sha256(DATA).digest()).decode()
    md5 = hashlib.md5(DATA).hexdigest()
    assert flexible.part_headers(_part(md5=md5), "md5") == {
        "Content-MD5": base64.b64encode(hashlib.md5(DATA).digest()).decode()
    }
    assert flexible.part_headers(_part(), "crc64nvme") == {}  # not hashed yet


def test_an_answer_is_verified_only_by_the_value_echoed() -> None:
    crc = checksums.checksum("crc64nvme", DATA)
    part = _part(checksum=crc)
    sent = flexible.part_headers(part, "crc64nvme")
    echoed = _answer({"ETag": '"abc"', "x-amz-checksum-crc64nvme": crc}, sent)
    assert flexible.sent_algorithm(echoed) == "crc64nvme"
    assert flexible.checked_receipt(part, "crc64nvme", echoed, "part 1").verified
    other = _answer({"ETag": '"abc"', "x-amz-checksum-crc64nvme": "AAAAAAAAAAA="}, sent)
    with pytest.raises(TransientError, match="is not the one of the bytes sent"):
        flexible.checked_receipt(part, "crc64nvme", other, "part 1")
    silent = _answer({"ETag": '"abc"'}, sent)
    with pytest.raises(flexible.ChecksumsIgnored, match="without checking its crc64nvme"):
        flexible.checked_receipt(part, "crc64nvme", silent, "part 1")
    assert flexible.sent_algorithm(_answer({}, {"Content-MD5": "x"})) == "md5"


def test_an_md5_answer_to_a_part_sent_with_content_md5_is_judged_by_its_etag() -> None:
    provider = S3Provider(httpx.AsyncClient(), bucket="b", access_key="a", secret_key="s")
    session = Session(id="s", account="a", provider="s3", path="/f", size=len(DATA),
                      mtime_ns=0, part_size=len(DATA),
                      remote={"upload_id": "u", "key": "k", "checksum": "crc64nvme"})  # fmt: skip
    md5 = hashlib.md5(DATA).hexdigest()
    part = _part(md5=md5)
    # The session turned to MD5 while this part was on its way with Content-MD5.
    answer = _answer({"ETag": f'"{md5}"'}, flexible.part_headers(part, "md5"))
    assert provider.receipt(session, part, answer).verified


@pytest.mark.parametrize(
    ("error", "about"),
    [
        (
            RejectedError(
                "create upload: server said 400 (InvalidArgument: Unsupported header "
                "'x-amz-checksum-algorithm' received for this API call.)",
                status=400,
                code="InvalidArgument",
            ),
            True,
        ),
        (
            CallUnsupported(
                "create upload: the store does not support this call (501 "
                "NotImplemented: x-amz-checksum-type)",
                status=501,
                code="NotImplemented",
            ),
            True,
        ),
        (
            RejectedError(
                "create upload: server said 400 (InvalidBucketName)",
                status=400,
                code="InvalidBucketName",
            ),
            False,
        ),
        (RejectedError("create upload: access denied (checksum)", status=403), False),
    ],
)
def test_a_refusal_of_the_checksum_headers_is_told_from_other_refusals(
    error: RejectedError, about: bool
) -> None:
    assert flexible.refuses_checksums(error) is about


def test_list_parts_reads_each_parts_checksum() -> None:
    crc = checksums.checksum("crc64nvme", DATA)
    body = (
        "<ListPartsResult><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm>"
        "<ChecksumType>FULL_OBJECT</ChecksumType>"
        f'<Part><PartNumber>1</PartNumber><ETag>"e"</ETag><Size>{len(DATA)}</Size>'
        f"<ChecksumCRC64NVME>{crc}</ChecksumCRC64NVME></Part>"
        "<IsTruncated>false</IsTruncated></ListPartsResult>"
    ).encode()
    found, following = parts_page(parse_xml(body, "list parts"), 0)
    assert found == [RemotePart(1, len(DATA), "e", crc)] and following is None
    provider = S3Provider(httpx.AsyncClient(), bucket="b", access_key="a", secret_key="s")
    assert provider.remote_receipt(_part(checksum=crc), found[0]) is not None
    assert provider.remote_receipt(_part(checksum="AAAAAAAAAAA="), found[0]) is None


def test_the_gateway_combines_the_parts_and_refuses_another_object_value() -> None:
    first, second = DATA[:5000], DATA[5000:]
    gate = FullObjectChecks()
    values = [checksums.checksum("crc64nvme", b) for b in (first, second)]
    gate.took_part("u", 1, {"crc64nvme": values[0]}, len(first))
    gate.took_part("u", 2, {"crc64nvme": values[1]}, len(second))
    body = (
        "<CompleteMultipartUpload>"
        f"<Part><PartNumber>1</PartNumber><ChecksumCRC64NVME>{values[0]}</ChecksumCRC64NVME></Part>"
        f"<Part><PartNumber>2</PartNumber><ChecksumCRC64NVME>{values[1]}</ChecksumCRC64NVME></Part>"
        "</CompleteMultipartUpload>"
    ).encode()
    whole = checksums.checksum("crc64nvme", DATA)
    asked = {"x-amz-checksum-type": "FULL_OBJECT", "x-amz-checksum-crc64nvme": whole}
    assert (
        gate.check_complete("u", asked, body) == f"<ChecksumCRC64NVME>{whole}</ChecksumCRC64NVME>"
    )
    with pytest.raises(Rejection) as bad:
        gate.check_complete("u", {**asked, "x-amz-checksum-crc64nvme": values[0]}, body)
    assert bad.value.code == "BadDigest"
    with pytest.raises(Rejection) as wrong_part:
        gate.check_complete("u", asked, body.replace(values[1].encode(), b"AAAAAAAAAAA="))
    assert wrong_part.value.code == "InvalidPart"


def test_a_file_under_the_multipart_threshold_is_one_part_whatever_was_asked() -> None:
    provider = S3Provider(httpx.AsyncClient(), bucket="b", access_key="a", secret_key="s")
    assert provider.part_size(3 * 1024 * 1024, 5 * 1024 * 1024) == 3 * 1024 * 1024
    assert provider.part_size(0, None) == 1  # one empty part
    assert provider.part_size(8 * 1024 * 1024, None) == 8 * 1024 * 1024  # the default part
    everything = S3Provider(
        httpx.AsyncClient(), bucket="b", access_key="a", secret_key="s", multipart_threshold=0
    )
    assert everything.part_size(3 * 1024 * 1024, None) == 8 * 1024 * 1024
