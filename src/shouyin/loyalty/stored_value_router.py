"""REST: recharge rules, recharges and refunds (idempotent by client UUID), recharge
receipts, a member's stored-value statement and the liability report with its export."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.keys import cipher_for
from shouyin.db import ReadDb, WriteDb
from shouyin.loyalty import liability, recharge_rules, stored_value
from shouyin.loyalty.recharge_receipt import (
    RechargeReceiptData,
    RechargeReceiptLabels,
    render_escpos,
    render_text,
)
from shouyin.loyalty.sv_schemas import (
    LiabilityReport,
    RechargeCreate,
    RechargePublic,
    RechargeRuleIn,
    RechargeRulePublic,
    RefundCreate,
    StatementPage,
)
from shouyin.sales.receipt import PAPER_COLUMNS
from shouyin.shared import i18n
from shouyin.shared.clock import to_local, utcnow
from shouyin.shared.tabular import write_table
from shouyin.stores import service as stores
from shouyin.web.params import ID_MAX, IdPath
from shouyin.web.templating import request_language

router = APIRouter()
api = APIRouter(prefix="/api/v1/stored-value", tags=["stored value"])
statements = APIRouter(prefix="/api/v1/members", tags=["stored value"])
Reader = Annotated[Principal, Depends(require("loyalty.read"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
Recharger = Annotated[Principal, Depends(require("stored_value.recharge"))]
Refunder = Annotated[Principal, Depends(require("stored_value.refund"))]
ReportReader = Annotated[Principal, Depends(require("reports.read"))]
Month = Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission or store)"},
    404: {"description": "Unknown member, store, register or rule"},
    409: {"description": "The client UUID was used for a different request"},
    422: {"description": "Invalid amount, over the card cap, or not enough balance"},
}
METHOD_LABELS = {"cash": "Cash", "card": "Bank card"}


class Paper(StrEnum):
    MM58 = "58"
    MM80 = "80"


def cipher(request: Request) -> FieldCipher:
    return cipher_for(request.app.state.settings)


# --- rules -----------------------------------------------------------------------------------


@api.get("/rules", response_model=list[RechargeRulePublic])
def list_rules(principal: Reader, db: ReadDb) -> object:
    return recharge_rules.list_rules(db)


@api.post("/rules", response_model=RechargeRulePublic, status_code=201, responses=ERRORS)
def create_rule(data: RechargeRuleIn, principal: Configurer, db: WriteDb) -> object:
    return recharge_rules.create_rule(db, data=data, actor=principal)


@api.put("/rules/{rule_id}", response_model=RechargeRulePublic, responses=ERRORS)
def update_rule(
    rule_id: IdPath, data: RechargeRuleIn, principal: Configurer, db: WriteDb
) -> object:
    return recharge_rules.update_rule(db, rule_id=rule_id, data=data, actor=principal)


@api.delete("/rules/{rule_id}", status_code=204, responses=ERRORS)
def delete_rule(rule_id: IdPath, principal: Configurer, db: WriteDb) -> Response:
    recharge_rules.delete_rule(db, rule_id=rule_id, actor=principal)
    return Response(status_code=204)


# --- recharges and refunds -------------------------------------------------------------------

RETRY: dict[int | str, dict[str, str]] = {
    200: {"description": "A retry: the result of the first submission"}
}


def _answer(result: RechargePublic, created: bool) -> JSONResponse:
    return JSONResponse(result.model_dump(mode="json"), status_code=201 if created else 200)


@api.post(
    "/recharges", response_model=RechargePublic, status_code=201, responses={**RETRY, **ERRORS}
)
def recharge(data: RechargeCreate, principal: Recharger, db: WriteDb) -> JSONResponse:
    return _answer(*stored_value.recharge(db, data=data, actor=principal))


@api.post("/refunds", response_model=RechargePublic, status_code=201, responses={**RETRY, **ERRORS})
def refund(data: RefundCreate, principal: Refunder, db: WriteDb) -> JSONResponse:
    """Pays back unused principal (all of it when no amount is given). The bonus on the card
    is written off in proportion to the principal refunded, rounded up to the fen: refunding
    40% of the principal writes off 40% of the bonus, and refunding all of it empties the
    card. The response's ``bonus`` is the bonus written off."""
    return _answer(*stored_value.refund(db, data=data, actor=principal))


@api.get("/recharges/{recharge_id}", response_model=RechargePublic, responses=ERRORS)
def get_recharge(recharge_id: IdPath, principal: Reader, db: ReadDb) -> object:
    return stored_value.load(db, recharge_id=recharge_id, actor=principal)


def receipt_data(
    session: Session, *, recharge_id: int, actor: Principal, cipher: FieldCipher, lang: str
) -> RechargeReceiptData:
    found = stored_value.load(session, recharge_id=recharge_id, actor=actor)
    store = stores.get_store(session, store_id=found.store_id)
    member = members.summary(members.get_member(session, member_id=found.member_id), cipher)

    def tr(text: str) -> str:
        return i18n.gettext(lang, text)

    refund = found.kind == "refund"
    amounts = (
        (tr("Principal refunded"), found.principal), (tr("Bonus written off"), found.bonus),
    ) if refund else ((tr("Recharged"), found.principal), (tr("Bonus given"), found.bonus))  # fmt: skip
    return RechargeReceiptData(
        store_name=store.name, store_address=store.address,
        title=tr("Stored-value refund") if refund else tr("Stored-value recharge"),
        number=found.number, business_date=found.business_date,
        local_time=to_local(found.at, store.timezone),
        member=member.mobile_masked or member.card_no, cashier=found.cashier_name,
        amounts=amounts, method=tr(METHOD_LABELS.get(found.method, found.method)),
        principal_after=found.sv_principal_after, bonus_after=found.sv_bonus_after,
        footer=tr("Please keep this slip."),
        labels=RechargeReceiptLabels(
            number=tr("No."), time=tr("Time"), business_date=tr("Business day"),
            member=tr("Member"), cashier=tr("Cashier"),
            method=tr("Refunded by") if refund else tr("Paid by"),
            balance=tr("Card balance"), of_principal=tr("of which principal"),
            of_bonus=tr("of which bonus"),
        ),
    )  # fmt: skip


@api.get(
    "/recharges/{recharge_id}/receipt",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}, "application/octet-stream": {}}}, 404: {}},
)
def receipt(
    recharge_id: IdPath,
    principal: Reader,
    db: ReadDb,
    request: Request,
    format: Annotated[Literal["text", "escpos"], Query()] = "text",
    paper: Annotated[Paper, Query(description="Paper width in mm")] = Paper.MM58,
) -> Response:
    data = receipt_data(
        db, recharge_id=recharge_id, actor=principal, cipher=cipher(request),
        lang=request_language(request),
    )  # fmt: skip
    if format == "escpos":
        escpos = render_escpos(data, paper_mm=58 if paper is Paper.MM58 else 80)
        return Response(escpos, media_type="application/octet-stream")
    return PlainTextResponse(render_text(data, width=PAPER_COLUMNS[int(paper.value)]))


# --- statement and liability -----------------------------------------------------------------


@statements.get("/{member_id}/stored-value", response_model=StatementPage, responses=ERRORS)
def member_statement(
    member_id: IdPath,
    principal: Reader,
    db: ReadDb,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    return liability.statement(db, member_id=member_id, limit=limit, offset=offset)


def build_report(
    db: Session, principal: Principal, store_id: int | None, first: str | None, last: str | None
) -> LiabilityReport:
    """The report for the months asked (default: the last 12) and the stores the user sees."""
    this_month = liability.parse_month(f"{to_local(utcnow(), liability.NO_STORE_TIMEZONE):%Y-%m}")
    end = liability.parse_month(last) if last else this_month
    start = liability.parse_month(first) if first else _months_back(end, 11)
    scoped = principal.scope_store(store_id)
    return liability.report(db, store_id=scoped, first=start, last=end)


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


StoreFilter = Annotated[int | None, Query(ge=1, le=ID_MAX)]


@api.get("/liability", response_model=LiabilityReport, responses=ERRORS)
def liability_report(
    principal: ReportReader, db: ReadDb, store_id: StoreFilter = None,
    first: Month = None, last: Month = None,
) -> object:  # fmt: skip
    """Outstanding principal and bonus at each month end, by store; store managers see
    their own store only."""
    return build_report(db, principal, store_id, first, last)


@api.get(
    "/liability/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **ERRORS},
)
def liability_export(
    principal: ReportReader, db: ReadDb, request: Request, store_id: StoreFilter = None,
    first: Month = None, last: Month = None,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> Response:  # fmt: skip
    found = build_report(db, principal, store_id, first, last)
    lang = request_language(request)

    def tr(text: str) -> str:
        return i18n.gettext(lang, text)

    header = [tr("Month"), tr("Store"), tr("Principal"), tr("Bonus"), tr("Total")]
    rows = liability.table(found, no_store=tr("No store"))
    body = write_table(header, rows, fmt=format, sheet="liability")
    name = f"stored-value-liability-{found.first_month}-{found.last_month}.{format}"
    media = XLSX if format == "xlsx" else "text/csv; charset=utf-8"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=disposition)


router.include_router(api)
router.include_router(statements)
