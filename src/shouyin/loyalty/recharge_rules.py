"""Recharge rules (充500送50): which bonus a recharge of at least some principal earns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.loyalty.models import Recharge, RechargeRule
from shouyin.loyalty.sv_schemas import (
    RechargeRuleIn,
)


def list_rules(session: Session) -> list[RechargeRule]:
    query = select(RechargeRule).order_by(RechargeRule.min_principal, RechargeRule.id)
    return list(session.scalars(query))


def get_rule(session: Session, *, rule_id: int) -> RechargeRule:
    rule = session.get(RechargeRule, rule_id)
    if rule is None:
        raise NotFound("No such recharge rule.", code="recharge_rule.not_found")
    return rule


def _check_rule(data: RechargeRuleIn) -> None:
    if not data.name.strip():
        raise ValidationFailed("A recharge rule needs a name.", code="recharge_rule.name_invalid")
    if data.bonus > data.min_principal:
        raise ValidationFailed(
            "The bonus cannot be larger than the recharge that earns it.",
            code="recharge_rule.bonus_too_big",
            details={"bonus": data.bonus, "min_principal": data.min_principal},
        )
    for moment in (data.valid_from, data.valid_to):
        if moment is not None and (moment.tzinfo is None or not 1970 <= moment.year <= 2999):
            raise ValidationFailed(
                "Give times between 1970 and 2999 with their time zone, "
                "e.g. 2026-01-01T00:00:00+08:00.",
                code="recharge_rule.time_invalid",
            )
    if data.valid_from and data.valid_to and data.valid_from >= data.valid_to:
        raise ValidationFailed(
            "The rule must start before it ends.", code="recharge_rule.window_invalid"
        )


def _rule_values(rule: RechargeRule) -> dict[str, Any]:
    return {
        "name": rule.name, "min_principal": rule.min_principal, "bonus": rule.bonus,
        "active": rule.active, "valid_from": rule.valid_from, "valid_to": rule.valid_to,
    }  # fmt: skip


def create_rule(session: Session, *, data: RechargeRuleIn, actor: Principal) -> RechargeRule:
    _check_rule(data)
    rule = RechargeRule(**data.model_dump() | {"name": data.name.strip()})
    session.add(rule)
    session.flush()
    audit.record(
        session, actor=actor, action="recharge_rule.create", entity="recharge_rule",
        entity_id=rule.id, after=_rule_values(rule),
    )  # fmt: skip
    return rule


def update_rule(
    session: Session, *, rule_id: int, data: RechargeRuleIn, actor: Principal
) -> RechargeRule:
    _check_rule(data)
    rule = get_rule(session, rule_id=rule_id)
    before = _rule_values(rule)
    for name, value in (data.model_dump() | {"name": data.name.strip()}).items():
        setattr(rule, name, value)
    session.flush()
    audit.record(
        session, actor=actor, action="recharge_rule.update", entity="recharge_rule",
        entity_id=rule.id, before=before, after=_rule_values(rule),
    )  # fmt: skip
    return rule


def delete_rule(session: Session, *, rule_id: int, actor: Principal) -> None:
    rule = get_rule(session, rule_id=rule_id)
    used = session.scalar(select(Recharge.id).where(Recharge.rule_id == rule_id).limit(1))
    if used is not None:
        # Recharges keep pointing at the rule that gave their bonus.
        raise Conflict(
            "Recharges have used this rule: switch it off instead of deleting it.",
            code="recharge_rule.in_use",
        )
    before = _rule_values(rule)
    session.delete(rule)
    session.flush()
    audit.record(
        session, actor=actor, action="recharge_rule.delete", entity="recharge_rule",
        entity_id=rule_id, before=before,
    )  # fmt: skip
