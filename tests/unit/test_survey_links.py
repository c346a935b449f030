"""Survey links on receipts: signed, expiring, and telling nothing about the member."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from shouyin.config import Settings
from shouyin.errors import DomainError
from shouyin.service.survey_links import (
    follow_up_token,
    follow_up_url,
    read_follow_up_token,
    read_survey_token,
    survey_token,
    survey_url,
)

SECRET = "the-app-secret"
DAY = date(2026, 3, 1)


def test_a_token_reads_back_to_its_order() -> None:
    token = survey_token(1234, secret=SECRET, issued=DAY)
    assert read_survey_token(token, secret=SECRET, today=DAY) == 1234
    assert read_survey_token(token, secret=SECRET, today=DAY + timedelta(days=30)) == 1234


def test_a_token_is_url_safe_and_short() -> None:
    token = survey_token(2**31 - 1, secret=SECRET, issued=DAY)
    assert all(c.isalnum() or c in "-_." for c in token)
    assert len(token) < 48  # a small QR code


def test_an_expired_token_is_refused() -> None:
    token = survey_token(7, secret=SECRET, issued=DAY)
    with pytest.raises(DomainError) as caught:
        read_survey_token(token, secret=SECRET, today=DAY + timedelta(days=31))
    assert caught.value.code == "survey.expired"
    assert (
        read_survey_token(token, secret=SECRET, max_age_days=60, today=DAY + timedelta(days=59))
        == 7
    )


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t.replace(t.split(".")[0], "8", 1),  # another order
        lambda t: ".".join([t.split(".")[0], str(int(t.split(".")[1]) + 100), t.split(".")[2]]),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # a changed MAC
        lambda t: t + "x",
        lambda t: "",
        lambda t: "7..",
        lambda t: "a.b.c",
        lambda t: "７.１.abc",
        lambda t: t.split(".")[0] + "." + t.split(".")[1],
        lambda t: "99999999999999.1." + t.split(".")[2],
        lambda t: t + "!!",
    ],
)
def test_a_forged_token_is_refused(forge: object) -> None:
    token = survey_token(7, secret=SECRET, issued=DAY)
    with pytest.raises(DomainError) as caught:
        read_survey_token(forge(token), secret=SECRET, today=DAY)  # type: ignore[operator]
    assert caught.value.code == "survey.invalid"


def test_another_secret_cannot_read_or_make_tokens() -> None:
    token = survey_token(7, secret=SECRET, issued=DAY)
    with pytest.raises(DomainError):
        read_survey_token(token, secret="another-secret", today=DAY)


def test_the_url_uses_the_public_address(tmp_path: Path) -> None:
    settings = Settings(
        mode="test", secret_key=SECRET, var_dir=tmp_path, public_url="https://shop.example.cn/"
    )
    url = survey_url(55, settings)
    assert url.startswith("https://shop.example.cn/s/")
    token = url.rsplit("/", 1)[1]
    assert read_survey_token(token, secret=SECRET) == 55
    # Nothing but the order id, the day and the signature: no member, mobile or name.
    assert token.split(".")[0] == "55" and len(token.split(".")) == 3


def test_a_follow_up_token_reads_back_to_its_ticket_and_expires() -> None:
    token = follow_up_token(42, secret=SECRET, issued=DAY)
    assert read_follow_up_token(token, secret=SECRET, today=DAY + timedelta(days=30)) == 42
    with pytest.raises(DomainError) as caught:
        read_follow_up_token(token, secret=SECRET, today=DAY + timedelta(days=31))
    assert caught.value.code == "survey.expired" and caught.value.status == 410


def test_survey_and_follow_up_tokens_cannot_stand_in_for_each_other() -> None:
    # The same number and day: only the key's purpose differs.
    survey = survey_token(7, secret=SECRET, issued=DAY)
    follow_up = follow_up_token(7, secret=SECRET, issued=DAY)
    assert survey != follow_up
    with pytest.raises(DomainError) as caught:
        read_follow_up_token(survey, secret=SECRET, today=DAY)
    assert caught.value.code == "survey.invalid" and caught.value.status == 404
    with pytest.raises(DomainError) as caught:
        read_survey_token(follow_up, secret=SECRET, today=DAY)
    assert caught.value.code == "survey.invalid"


def test_a_forged_follow_up_token_is_refused() -> None:
    token = follow_up_token(7, secret=SECRET, issued=DAY)
    for forged in (token.replace("7", "8", 1), token[:-2] + "AA", "7.1", ""):
        with pytest.raises(DomainError):
            read_follow_up_token(forged, secret=SECRET, today=DAY)
    with pytest.raises(DomainError):
        read_follow_up_token(token, secret="another-secret", today=DAY)


def test_the_follow_up_url_is_signed_with_the_app_secret(tmp_path: Path) -> None:
    settings = Settings(
        mode="test", secret_key=SECRET, var_dir=tmp_path, public_url="https://shop.example.cn"
    )
    url = follow_up_url(91, settings)
    assert url.startswith("https://shop.example.cn/s/f/")
    assert read_follow_up_token(url.rsplit("/", 1)[1], secret=SECRET) == 91
    assert follow_up_token(91, settings) == url.rsplit("/", 1)[1]
