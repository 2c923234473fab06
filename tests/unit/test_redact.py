"""Tests for tui.core.redact: secrets never reach people or logs."""

from __future__ import annotations

import pytest

from tui.core.redact import redact, url_for_people

SECRET = "s3cr3tVALUE0123456789"


@pytest.mark.parametrize(
    "text",
    [
        f"https://bucket.s3.amazonaws.com/key?partNumber=1&X-Amz-Signature={SECRET}",
        f"PUT http://127.0.0.1:9000/b/k?uploadId=u&X-Amz-Credential=AKIA%2F{SECRET} failed",
        f"see <https://example.com/upload?sig={SECRET}>",
        f'url="https://example.com/p?token={SECRET}"',
    ],
)
def test_url_query_strings_are_removed(text: str) -> None:
    out = redact(text)
    assert SECRET not in out
    assert "?…" in out


def test_url_path_is_kept() -> None:
    out = redact(f"PUT https://bucket.s3.amazonaws.com/up/file.bin?X-Amz-Signature={SECRET} 403")
    assert out == "PUT https://bucket.s3.amazonaws.com/up/file.bin?… 403"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {SECRET}",
        f"authorization: bearer {SECRET}",
        f"{{'Authorization': 'Bearer {SECRET}'}}",
        f'{{"authorization": "Bearer {SECRET}"}}',
        f"Authorization=AWS4-HMAC-SHA256 {SECRET}",
        f"Authorization: AWS {SECRET}",
    ],
)
def test_authorization_values_are_removed(text: str) -> None:
    out = redact(text)
    assert SECRET not in out
    assert out.lower().startswith(("authorization", "{'authorization'", '{"authorization"'))


@pytest.mark.parametrize(
    "text",
    [
        f"X-Amz-Signature={SECRET}",
        f"x-amz-signature: {SECRET}",
        f"uploadId=u&X-Amz-Signature={SECRET}&X-Amz-Date=20240101T000000Z",
        f"x-amz-security-token: {SECRET}",
        f"signature={SECRET}",
        f"Signature = {SECRET}",
    ],
)
def test_amz_signature_values_are_removed(text: str) -> None:
    assert SECRET not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        f"access_token={SECRET}",
        f"access_token={SECRET}&expires=3600",
        f'{{"access_token": "{SECRET}"}}',
        f"token: {SECRET}",
        f"x-access-token={SECRET}",
    ],
)
def test_token_values_are_removed(text: str) -> None:
    assert SECRET not in redact(text)


def test_only_the_secret_goes() -> None:
    assert redact(f"access_token={SECRET}&expires=3600") == "access_token=…&expires=3600"
    assert redact(f"Authorization: Bearer {SECRET} sent") == "Authorization: … sent"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "uploaded 12 parts in 3m05s",
        "part 3: server error 503; will retry",
        "file.bin: size is now 1,024 bytes, was 2,048 when planned",
        "the token expired; sign in again",
        "tokens remaining: 5",
        "https://bucket.s3.amazonaws.com/up/file.bin",
        "s3://bucket/key",
        "ratio=3 and mode: fast",
        "C:\\data\\file.bin",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("text", [f"refresh_token={SECRET}", f'{{"id_token": "{SECRET}"}}'])
def test_other_oauth_tokens_are_removed(text: str) -> None:
    assert SECRET not in redact(text)


def test_bare_bearer_token_is_removed() -> None:
    assert SECRET not in redact(f"sent Bearer {SECRET}")


def test_url_for_people() -> None:
    assert url_for_people(f"https://h/p?X-Amz-Signature={SECRET}") == "https://h/p"
    assert url_for_people("https://h/p") == "https://h/p"
