"""Survey input and output: the fixed set of tags, the answer a customer sends, and what the
public page and API may show (the store and the day, never the member)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

TagCode = Literal[
    "friendly_staff", "fast_checkout", "clean_store", "good_prices", "product_quality",
    "long_queue", "unfriendly_staff", "out_of_stock", "wrong_price", "poor_quality", "other",
]  # fmt: skip


@dataclass(frozen=True)
class Tag:
    code: str
    label: str  # English msgid, shown translated
    positive: bool
    # The complaint category a negative tag points to (DOMAIN.md, Service).
    category: str = "service"


TAGS: dict[str, Tag] = {
    tag.code: tag
    for tag in (
        Tag("friendly_staff", "Friendly staff", True),
        Tag("fast_checkout", "Fast checkout", True),
        Tag("clean_store", "Clean store", True),
        Tag("good_prices", "Good prices", True),
        Tag("product_quality", "Good product quality", True),
        Tag("long_queue", "Long queue", False),
        Tag("unfriendly_staff", "Unfriendly staff", False),
        Tag("out_of_stock", "Out of stock", False, "product"),
        Tag("wrong_price", "Wrong price", False, "price"),
        Tag("poor_quality", "Poor product quality", False, "product"),
        Tag("other", "Other", False),
    )
}
assert set(TAGS) == set(get_args(TagCode)), "TagCode and TAGS must list the same codes"

COMMENT_MAX = 500


class SurveySubmit(BaseModel):
    """A customer's answer. Nothing about who they are: the token names the order."""

    model_config = ConfigDict(extra="forbid")
    satisfaction: int = Field(ge=1, le=5, strict=True, description="1 (very unhappy) to 5")
    nps: int | None = Field(
        default=None, ge=0, le=10, strict=True,
        description="How likely to recommend the store, 0 to 10",
    )  # fmt: skip
    tags: list[TagCode] = Field(default_factory=list, max_length=len(TAGS))
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)

    @field_validator("tags")
    @classmethod
    def _each_tag_once(cls, tags: list[str]) -> list[str]:
        if len(set(tags)) != len(tags):
            raise ValueError("each tag at most once")
        return tags

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, comment: str | None) -> str | None:
        text = (comment or "").strip()
        return text or None


class TagPublic(BaseModel):
    code: str
    label: str  # in the request's language
    positive: bool


class SurveyPublic(BaseModel):
    """What a survey link shows: the store's name and the day of the purchase, no more."""

    store_name: str
    purchase_date: date
    answered: bool
    tags: list[TagPublic]


class SurveyResult(BaseModel):
    submitted_at: datetime
    # Whether the answer was taken up as a complaint (a low score): the page says sorry.
    complaint: bool


class FollowUpSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5, strict=True)
