"""REST: survey answers from a receipt's signed link (public, the token is the key).

No login: the customer only holds the receipt. The signed token names the order and expires
(settings.survey_max_age_days); one answer per order.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from shouyin.config import Settings
from shouyin.db import ReadDb, WriteDb
from shouyin.service import surveys
from shouyin.service.survey_schemas import SurveyPublic, SurveyResult, SurveySubmit
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1/surveys", tags=["service"])
# Long enough for any genuine token (about 40 characters), short enough to refuse junk early.
Token = Annotated[str, Path(min_length=1, max_length=80)]
ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "A forged link, or its order is gone (survey.invalid)"},
    410: {"description": "The link has expired (survey.expired)"},
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/{token}", response_model=SurveyPublic, responses=ERRORS)
def get_survey(token: Token, db: ReadDb, request: Request) -> object:
    """The store's name and the day of the purchase, the tags to choose from (in the request's
    language), and whether the survey has been answered. Nothing about the member."""
    return surveys.view(
        db, token=token, settings=_settings(request), lang=request_language(request)
    )


@router.post(
    "/{token}",
    response_model=SurveyResult,
    status_code=201,
    responses={
        **ERRORS,
        409: {"description": "The survey has been answered already (survey.answered)"},
        422: {"description": "Invalid answer: scores out of range, unknown tag, long comment"},
    },
)
def answer_survey(token: Token, data: SurveySubmit, db: WriteDb, request: Request) -> object:
    """One answer per order. A low satisfaction (settings.survey_complaint_at) also opens a
    complaint for the store, in the same transaction."""
    return surveys.submit(
        db, token=token, data=data, settings=_settings(request), lang=request_language(request)
    )
