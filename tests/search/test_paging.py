from __future__ import annotations

import base64

import pytest

from mltrail.exceptions import InvalidParameter
from mltrail.search.paging import decode_page_token, encode_page_token


def test_token_is_what_mlflow_sends() -> None:
    assert encode_page_token(2) == "eyJvZmZzZXQiOiAyfQ=="
    assert decode_page_token("eyJvZmZzZXQiOiAyfQ==") == 2


@pytest.mark.parametrize("offset", [0, 1, 1000, 50_000, 2**40])
def test_round_trip(offset: int) -> None:
    assert decode_page_token(encode_page_token(offset)) == offset


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_the_first_page(token: str | None) -> None:
    assert decode_page_token(token) == 0


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "not base64!",
        "abc",
        b64("not json"),
        b64("[1]"),
        b64("{}"),
        b64('{"offset": -1}'),
        b64('{"offset": "3"}'),
        b64('{"offset": 1.5}'),
        b64('{"offset": true}'),
        base64.b64encode(b"\xff\xfe").decode(),
        "x" * 10_000,
    ],
)
def test_bad_token(token: str) -> None:
    with pytest.raises(InvalidParameter, match="^Invalid page token") as info:
        decode_page_token(token)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert len(str(info.value)) < 300
