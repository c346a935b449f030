"""The public survey page a receipt's QR code opens, and the complaint follow-up question.

No login, no office navigation: a phone-sized page of its own (templates/survey/). The
signed token is the key; a plain form POST works without JavaScript. A submit goes through
POST -> 303 -> GET, so a reload never sends the answer twice, and a double-tapped form whose
second copy meets the first one's answer still shows the thanks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from shouyin.config import Settings
from shouyin.db import ReadDb, get_database
from shouyin.errors import Conflict, DomainError
from shouyin.service import surveys
from shouyin.service.survey_schemas import COMMENT_MAX, TAGS, SurveySubmit
from shouyin.shared import i18n
from shouyin.web.templating import render, request_language

router = APIRouter(include_in_schema=False)
TOKEN_MAX = 80  # a genuine token is about 40 characters
FormText = Annotated[str, Form(max_length=2000)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _check_length(token: str) -> None:
    if len(token) > TOKEN_MAX:
        raise DomainError("This survey link is not valid.", code="survey.invalid", status=404)


def _message(request: Request, error: DomainError, *, back: str) -> Response:
    """A forged (404), expired (410) or answered (409) link: a page that says which."""
    lang = request_language(request)
    text = i18n.translate_error(lang, error.template, error.details)
    return render(
        request, "survey/message.html",
        {"code": error.code, "message": text, "back": back}, status_code=error.status,
    )  # fmt: skip


def _form(
    request: Request, token: str, found: surveys.SurveyOrder, *, values: dict[str, Any],
    error: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    lang = request_language(request)
    context = {
        "token": token, "store_name": found.store_name, "purchase_date": found.purchase_date,
        "positive": [t for t in surveys.tags_public(lang) if t.positive],
        "negative": [t for t in surveys.tags_public(lang) if not t.positive],
        "values": values, "error": error, "comment_max": COMMENT_MAX, "back": f"/s/{token}",
    }  # fmt: skip
    return render(request, "survey/form.html", context, status_code=status)


@router.get("/s/{token}")
def survey_page(token: str, request: Request, db: ReadDb) -> Response:
    try:
        _check_length(token)
        found = surveys.load(db, order_id=surveys.order_id_of(token, _settings(request)))
    except DomainError as exc:
        return _message(request, exc, back=f"/s/{token}")
    if found.answer_id is not None:
        # A visit, not a refused write: 200, with the same words as the API's 409.
        answered = DomainError(
            "This survey has already been answered. Thank you!", code="survey.answered",
            status=200,
        )  # fmt: skip
        return _message(request, answered, back=f"/s/{token}")
    return _form(request, token, found, values={"tags": []})


def _parsed(
    satisfaction: str, nps: str, tags: list[str], comment: str
) -> tuple[SurveySubmit | None, str]:
    """The form's answer, or None and the problem to show (the values go back in the form)."""
    if not satisfaction.isdigit() or not 1 <= int(satisfaction) <= 5:
        return None, "Please choose how satisfied you are (1 to 5 stars)."
    if len(comment.strip()) > COMMENT_MAX:
        return None, "Please keep your comment to 500 characters or fewer."
    try:
        data = SurveySubmit(
            satisfaction=int(satisfaction), nps=int(nps) if nps.isdigit() else None,
            # A tampered form's unknown or repeated tags are dropped, not an error page.
            tags=list(dict.fromkeys(t for t in tags if t in TAGS)),
            comment=comment,
        )  # fmt: skip
    except ValidationError:
        return None, "Please check your answer."
    return data, ""


@router.post("/s/{token}")
def survey_submit(
    token: str, request: Request, satisfaction: FormText = "", nps: FormText = "",
    tags: Annotated[list[str], Form(max_length=len(TAGS))] = [],  # noqa: B006 (FastAPI form)
    comment: FormText = "",
) -> Response:  # fmt: skip
    settings, db = _settings(request), get_database(request)
    try:
        _check_length(token)
        with db.read() as session:
            found = surveys.load(session, order_id=surveys.order_id_of(token, settings))
    except DomainError as exc:
        return _message(request, exc, back=f"/s/{token}")
    data, problem = _parsed(satisfaction, nps, tags, comment)
    if data is None:
        values = {"satisfaction": satisfaction, "nps": nps, "tags": tags, "comment": comment}
        error = i18n.gettext(request_language(request), problem)
        return _form(request, token, found, values=values, error=error, status=422)
    try:
        with db.write() as session:
            surveys.submit(
                session, token=token, data=data, settings=settings,
                lang=request_language(request),
            )  # fmt: skip
    except Conflict as exc:
        with db.read() as session:
            if surveys.is_repeat(session, order_id=found.order_id, data=data):
                return RedirectResponse(f"/s/{token}/thanks", status_code=303)
        return _message(request, exc, back=f"/s/{token}")
    except DomainError as exc:
        return _message(request, exc, back=f"/s/{token}")
    return RedirectResponse(f"/s/{token}/thanks", status_code=303)


@router.get("/s/{token}/thanks")
def survey_thanks(token: str, request: Request, db: ReadDb) -> Response:
    settings = _settings(request)
    try:
        _check_length(token)
        found = surveys.load(db, order_id=surveys.order_id_of(token, settings))
    except DomainError as exc:
        return _message(request, exc, back=f"/s/{token}/thanks")
    if found.answer_id is None:  # nothing to thank for yet
        return RedirectResponse(f"/s/{token}", status_code=303)
    sorry = surveys.complaint_opened(db, order_id=found.order_id, settings=settings)
    return render(
        request, "survey/thanks.html",
        {"store_name": found.store_name, "sorry": sorry, "back": f"/s/{token}/thanks"},
    )  # fmt: skip


# --- the follow-up question after a complaint ---------------------------------------------


def _follow_up_page(
    request: Request, token: str, state: surveys.FollowUpState, *, error: str | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    return render(
        request, "survey/follow_up.html",
        {"token": token, "state": state, "error": error, "back": f"/s/f/{token}"},
        status_code=status,
    )  # fmt: skip


@router.get("/s/f/{token}")
def follow_up_page(token: str, request: Request, db: ReadDb) -> Response:
    try:
        _check_length(token)
        state = surveys.follow_up_state(db, token=token, settings=_settings(request))
    except DomainError as exc:
        return _message(request, exc, back=f"/s/f/{token}")
    return _follow_up_page(request, token, state)


@router.post("/s/f/{token}")
def follow_up_submit(token: str, request: Request, score: FormText = "") -> Response:
    settings, db = _settings(request), get_database(request)
    try:
        _check_length(token)
        if not score.isdigit() or not 1 <= int(score) <= 5:
            with db.read() as session:
                state = surveys.follow_up_state(session, token=token, settings=settings)
            text = i18n.gettext(request_language(request), "Please choose 1 to 5 stars.")
            return _follow_up_page(request, token, state, error=text, status=422)
        with db.write() as session:
            surveys.answer_follow_up(session, token=token, score=int(score), settings=settings)
    except DomainError as exc:
        return _message(request, exc, back=f"/s/f/{token}")
    return RedirectResponse(f"/s/f/{token}", status_code=303)
