"""REST: payment codes (付款码) scanned at the till: charge, follow, cancel.

The handlers are plain functions (run in the thread pool): each runs several short units of
work around the gateway calls, never one long transaction (see ``payment_codes``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import get_database
from shouyin.sales import payment_codes
from shouyin.sales.gateway import Gateway, process_gateway
from shouyin.sales.payment_schemas import PaymentAttemptPublic, PaymentCodeCreate
from shouyin.web.params import ID_MAX, IdPath
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1/payment-codes", tags=["payment codes"])
Seller = Annotated[Principal, Depends(require("sales.sell"))]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {
        "description": "Not allowed (permission or store), or another register's and "
        "another cashier's payment (payment_code.other_register)"
    },
    404: {"description": "No such payment (payment_code.not_found)"},
}


def app_gateway(app: FastAPI) -> Gateway:
    """The process's gateway, kept in the app's state (the simulator's trades live there)."""
    state = app.state
    found: Gateway | None = getattr(state, "payment_gateway", None)
    if found is None:
        found = process_gateway(state.settings.payment_gateway)
        state.payment_gateway = found
    return found


def gateway_of(request: Request) -> Gateway:
    return app_gateway(request.app)


# The till's register: a payment may be followed or cancelled at the register that took it,
# by the cashier who took it, or by a manager.
AtRegister = Annotated[
    int | None, Query(ge=1, le=ID_MAX, description="The register asking (the till's own)")
]


def _readable(request: Request, attempt: PaymentAttemptPublic) -> PaymentAttemptPublic:
    return payment_codes.readable(attempt, request_language(request))


def _wait(request: Request) -> int:
    seconds: int = request.app.state.settings.payment_wait_seconds
    return seconds


@router.post(
    "",
    response_model=PaymentAttemptPublic,
    status_code=201,
    responses={
        200: {"description": "A retry: the attempt of the first submission, charged once"},
        409: {"description": "No open shift (shift.not_open), or the UUID was used otherwise"},
        422: {"description": "Not a WeChat Pay or Alipay code (payment_code.invalid)"},
        **ERRORS,
    },
)
def charge(data: PaymentCodeCreate, principal: Seller, request: Request) -> Response:
    """Charge the customer's code. The answer's status is final (succeeded, failed, reversed)
    or ``waiting`` (the customer enters a password: poll GET until it is final)."""
    attempt, created = payment_codes.charge(
        get_database(request), gateway_of(request), data=data, actor=principal,
        wait_seconds=_wait(request),
    )  # fmt: skip
    body = _readable(request, attempt).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if created else 200)


@router.get("/{attempt_id}", response_model=PaymentAttemptPublic, responses=ERRORS)
def poll(
    attempt_id: IdPath, principal: Seller, request: Request, register_id: AtRegister = None
) -> object:
    """The attempt now; one still waiting is asked about at the gateway (and reversed once it
    waited longer than the shop allows)."""
    found = payment_codes.poll(
        get_database(request), gateway_of(request), attempt_id=attempt_id, actor=principal,
        wait_seconds=_wait(request), register_id=register_id,
    )  # fmt: skip
    return _readable(request, found)


@router.post(
    "/{attempt_id}/cancel",
    response_model=PaymentAttemptPublic,
    responses={409: {"description": "It already paid an order (payment_code.used)"}, **ERRORS},
)
def cancel(
    attempt_id: IdPath, principal: Seller, request: Request, register_id: AtRegister = None
) -> object:
    """Reverse a payment no order has used (the customer changed their mind); a paid one is
    refunded by the reversal. Cancelling twice changes nothing."""
    found = payment_codes.cancel(
        get_database(request), gateway_of(request), attempt_id=attempt_id, actor=principal,
        wait_seconds=_wait(request), register_id=register_id,
    )  # fmt: skip
    return _readable(request, found)
