"""Back office: recharge rules, recharging and refunding one member's card, and the
stored-value liability report (储值负债). Amounts are typed in yuan and kept in fen."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.keys import cipher_for
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError
from shouyin.loyalty import ledger, recharge_rules, stored_value
from shouyin.loyalty.models import RechargeRule
from shouyin.loyalty.stored_value_router import build_report
from shouyin.loyalty.sv_schemas import RechargeCreate, RechargeRuleIn, RefundCreate
from shouyin.shared.clock import utcnow
from shouyin.shared.money import Money
from shouyin.stores import service as stores
from shouyin.web.office_common import _, error_of, parse_id, parse_window_day, validated
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("loyalty.read"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
Recharger = Annotated[Principal, Depends(require("stored_value.recharge"))]
Refunder = Annotated[Principal, Depends(require("stored_value.refund"))]
ReportReader = Annotated[Principal, Depends(require("reports.read"))]
RowId = Annotated[int, Path(ge=1, le=ID_MAX)]
Text = Annotated[str, Form(max_length=200)]
# Rules belong to the whole chain, so their dates are read on China time.
RULE_ZONE = ZoneInfo("Asia/Shanghai")
EXPORT = "/api/v1/stored-value/liability/export"
METHOD_LABELS = {"cash": _("Cash"), "card": _("Bank card")}
RULE_MESSAGES = {
    "name": (_("A rule needs a name of at most 60 characters."), "recharge_rule.name_invalid"),
    "min_principal": (
        _("The minimum recharge must be more than zero."),
        "recharge_rule.min_invalid",
    ),
    "bonus": (_("The bonus cannot be negative."), "recharge_rule.bonus_invalid"),
}
MONEY_MESSAGES = {
    "principal": (_("Enter an amount above zero."), "stored_value.amount_invalid"),
    "amount": (_("Enter an amount above zero."), "stored_value.amount_invalid"),
    "method": (_("Choose how the money is paid."), "stored_value.method_invalid"),
    "reason": (_("A refund needs a reason."), "stored_value.reason_missing"),
    "store_id": (_("Choose the store."), "stored_value.store_missing"),
}


# --- recharge rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    rule: RechargeRule
    valid_from: str  # local date, or "" for no start
    valid_until: str  # last local day the rule applies, or ""


def _day_of(moment: datetime | None, *, until: bool) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(RULE_ZONE) - (timedelta(microseconds=1) if until else timedelta())
    return local.date().isoformat()


def _start_of(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), RULE_ZONE).astimezone(UTC)


def _yuan(text: str) -> int:
    return Money.from_yuan(text or "0").fen


class RuleForm:
    """The rule form as typed; dates are whole local days, the last one included."""

    def __init__(
        self, name: Text = "", min_yuan: Text = "", bonus_yuan: Text = "", valid_from: Text = "",
        valid_until: Text = "", active: Annotated[str, Form(max_length=5)] = "",
    ) -> None:  # fmt: skip
        self.name, self.min_yuan, self.bonus_yuan = (
            name.strip(),
            min_yuan.strip(),
            bonus_yuan.strip(),
        )
        self.valid_from, self.valid_until, self.active = valid_from, valid_until, bool(active)

    def data(self) -> RechargeRuleIn:
        code = "recharge_rule.time_invalid"
        until = parse_window_day(self.valid_until, code=code)
        values = {
            "name": self.name, "min_principal": _yuan(self.min_yuan),
            "bonus": _yuan(self.bonus_yuan), "active": self.active,
            "valid_from": _start_of(parse_window_day(self.valid_from, code=code)),
            "valid_to": _start_of(until + timedelta(days=1) if until else None),
        }  # fmt: skip
        return validated(RechargeRuleIn, values, RULE_MESSAGES)


def _form_of(rule: RechargeRule) -> dict[str, Any]:
    return {
        "name": rule.name, "min_yuan": Money(rule.min_principal).yuan_str(),
        "bonus_yuan": Money(rule.bonus).yuan_str(), "active": rule.active,
        "valid_from": _day_of(rule.valid_from, until=False),
        "valid_until": _day_of(rule.valid_to, until=True),
    }  # fmt: skip


def _rules_page(
    request: Request, db: Session, principal: Principal, *, edit: int | None = None,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    rules = recharge_rules.list_rules(db)
    editing = next((r for r in rules if r.id == edit), None)
    rows = [
        RuleRow(r, _day_of(r.valid_from, until=False), _day_of(r.valid_to, until=True))
        for r in rules
    ]
    context = {
        "rows": rows,
        "editing": editing, "form": form or (_form_of(editing) if editing else {"active": True}),
        "error": error, "saved": request.query_params.get("saved") == "1",
        "can_configure": principal.can("loyalty.configure"),
        "can_report": principal.can("reports.read"),
    }  # fmt: skip
    return render(request, "loyalty/stored_value.html", context, status_code=status)


@router.get("/office/loyalty/stored-value")
def rules_page(
    request: Request, principal: Reader, db: ReadDb,
    edit: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
) -> Response:  # fmt: skip
    return _rules_page(request, db, principal, edit=edit)


def _save_rule(
    request: Request, db: Session, principal: Principal, form: RuleForm, rule_id: int | None
) -> Response:
    try:
        if rule_id is None:
            recharge_rules.create_rule(db, data=form.data(), actor=principal)
        else:
            recharge_rules.update_rule(db, rule_id=rule_id, data=form.data(), actor=principal)
    except DomainError as exc:
        db.rollback()
        typed, error = vars(form), error_of(request, exc)
        return _rules_page(
            request, db, principal, edit=rule_id, form=typed, error=error, status=exc.status
        )
    return RedirectResponse("/office/loyalty/stored-value?saved=1", status_code=303)


@router.post("/office/loyalty/stored-value/rules")
def create_rule_submit(
    request: Request, principal: Configurer, db: WriteDb, form: Annotated[RuleForm, Depends()]
) -> Response:
    return _save_rule(request, db, principal, form, None)


@router.post("/office/loyalty/stored-value/rules/{rule_id}")
def update_rule_submit(
    request: Request, principal: Configurer, db: WriteDb, rule_id: RowId,
    form: Annotated[RuleForm, Depends()],
) -> Response:  # fmt: skip
    recharge_rules.get_rule(db, rule_id=rule_id)
    return _save_rule(request, db, principal, form, rule_id)


@router.post("/office/loyalty/stored-value/rules/{rule_id}/delete")
def delete_rule_submit(
    request: Request, principal: Configurer, db: WriteDb, rule_id: RowId
) -> Response:
    try:
        recharge_rules.delete_rule(db, rule_id=rule_id, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _rules_page(request, db, principal, error=error_of(request, exc), status=exc.status)
    return RedirectResponse("/office/loyalty/stored-value?saved=1", status_code=303)


# --- one member's card: recharge and refund --------------------------------------------------


def _card_page(
    request: Request, db: Session, principal: Principal, member_id: int, *, kind: str,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
    done: int | None = None, status: int = 200,
) -> Response:  # fmt: skip
    member = members.summary(
        members.get_member(db, member_id=member_id), cipher_for(request.app.state.settings)
    )
    result = stored_value.load(db, recharge_id=done, actor=principal) if done else None
    if result is not None and (result.member_id != member_id or result.kind != kind):
        result = None
    places = stores.list_stores(db, store_id=principal.store_id)
    context = {
        "member": member, "held": ledger.balances(db.connection(), member_id=member_id),
        "stores": [s for s in places if s.active], "fixed_store": principal.store_id,
        "form": form or {"client_uuid": str(uuid.uuid4()), "method": "cash"},
        "error": error, "result": result, "method_labels": METHOD_LABELS,
        "can_refund": principal.can("stored_value.refund"),
        "can_recharge": principal.can("stored_value.recharge"),
        "offers": _offers(db) if kind == "recharge" else [],
    }  # fmt: skip
    name = "stored_value_refund" if kind == "refund" else "stored_value_recharge"
    return render(request, f"loyalty/{name}.html", context, status_code=status)


def _offers(db: Session) -> list[str]:
    """The names of the rules a recharge could earn right now, for the cashier."""
    live = {rule.id for rule in stored_value.active_rules(db, at=utcnow())}
    return [rule.name for rule in recharge_rules.list_rules(db) if rule.id in live]


class CardForm:
    """The recharge or refund form as typed; the UUID makes a double submit harmless."""

    def __init__(
        self, client_uuid: Text = "", store_id: Text = "", amount: Text = "",
        method: Text = "cash", reference: Text = "", reason: Text = "",
    ) -> None:  # fmt: skip
        self.client_uuid, self.store_id, self.amount = client_uuid.strip(), store_id, amount.strip()
        self.method, self.reference, self.reason = method, reference.strip(), reason.strip()

    def common(self, principal: Principal, member_id: int) -> dict[str, Any]:
        return {
            "client_uuid": self.client_uuid or str(uuid.uuid4()), "member_id": member_id,
            "store_id": principal.store_id or parse_id(self.store_id), "method": self.method,
            "reference": self.reference or None,
        }  # fmt: skip


@router.get("/office/members/{member_id}/recharge")
def recharge_page(
    request: Request, principal: Recharger, db: ReadDb, member_id: RowId,
    done: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
) -> Response:  # fmt: skip
    return _card_page(request, db, principal, member_id, kind="recharge", done=done)


@router.post("/office/members/{member_id}/recharge")
def recharge_submit(
    request: Request, principal: Recharger, db: WriteDb, member_id: RowId,
    form: Annotated[CardForm, Depends()],
) -> Response:  # fmt: skip
    def run() -> int:
        values = form.common(principal, member_id) | {"principal": _yuan(form.amount)}
        data = validated(RechargeCreate, values, MONEY_MESSAGES)
        return stored_value.recharge(db, data=data, actor=principal)[0].id

    return _card_submit(request, db, principal, member_id, form, "recharge", run)


def _card_submit(
    request: Request, db: Session, principal: Principal, member_id: int, form: CardForm,
    kind: str, run: Callable[[], int],
) -> Response:  # fmt: skip
    """Run a recharge or refund; show the form again with the error, or the result."""
    try:
        done = run()
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _card_page(
            request, db, principal, member_id, kind=kind, form=vars(form), error=error,
            status=exc.status,
        )  # fmt: skip
    path = "recharge" if kind == "recharge" else "sv-refund"
    return RedirectResponse(f"/office/members/{member_id}/{path}?done={done}", status_code=303)


@router.get("/office/members/{member_id}/sv-refund")
def refund_page(
    request: Request, principal: Refunder, db: ReadDb, member_id: RowId,
    done: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
) -> Response:  # fmt: skip
    return _card_page(request, db, principal, member_id, kind="refund", done=done)


@router.post("/office/members/{member_id}/sv-refund")
def refund_submit(
    request: Request, principal: Refunder, db: WriteDb, member_id: RowId,
    form: Annotated[CardForm, Depends()],
) -> Response:  # fmt: skip
    def run() -> int:
        amount = _yuan(form.amount) if form.amount else None  # blank: all the principal
        values = form.common(principal, member_id) | {"amount": amount, "reason": form.reason}
        data = validated(RefundCreate, values, MONEY_MESSAGES)
        return stored_value.refund(db, data=data, actor=principal)[0].id

    return _card_submit(request, db, principal, member_id, form, "refund", run)


# --- liability report ------------------------------------------------------------------------


@router.get("/office/loyalty/liability")
def liability_page(
    request: Request, principal: ReportReader, db: ReadDb,
    store_id: Annotated[str, Query(max_length=12)] = "",
    first: Annotated[str, Query(max_length=7)] = "", last: Annotated[str, Query(max_length=7)] = "",
) -> Response:  # fmt: skip
    chosen = parse_id(store_id) if principal.store_id is None else principal.store_id
    error = None
    try:
        report = build_report(db, principal, chosen, first or None, last or None)
    except DomainError as exc:
        error, status = error_of(request, exc), exc.status
        report = build_report(db, principal, chosen, None, None)
    else:
        status = 200
    query = {"store_id": chosen or "", "first": report.first_month, "last": report.last_month}
    chart = {
        "months": [m.month for m in report.months],
        "principal": [m.principal for m in report.months],
        "bonus": [m.bonus for m in report.months],
    }  # fmt: skip
    context = {
        "report": report, "error": error, "chart": chart, "store_id": chosen,
        "stores": stores.list_stores(db, store_id=principal.store_id),
        "can_pick_store": principal.store_id is None,
        "export": {f: f"{EXPORT}?{urlencode(query | {'format': f})}" for f in ("csv", "xlsx")},
    }  # fmt: skip
    return render(request, "loyalty/liability.html", context, status_code=status)
