"""Users, logins, sessions and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth import passwords, tokens
from shouyin.auth.cache import PRINCIPALS
from shouyin.auth.models import ApiToken, User, UserSession
from shouyin.auth.permissions import PERMISSIONS, is_store_bound, permissions_for
from shouyin.auth.principal import Principal
from shouyin.auth.schemas import TokenCreate, UserCreate, UserUpdate
from shouyin.config import Settings
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.shared.clock import as_utc, utcnow
from shouyin.stores import service as stores


def _public(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "store_id": user.store_id,
        "active": user.active,
    }


def _check_store(session: Session, role: str, store_id: int | None) -> None:
    if is_store_bound(role) and store_id is None:
        raise ValidationFailed(
            "Cashiers and store managers need a store.", code="user.store_needed"
        )
    if not is_store_bound(role) and store_id is not None:
        raise ValidationFailed(
            "HQ roles are not bound to one store.", code="user.store_not_allowed"
        )
    if store_id is not None:
        stores.get_store(session, store_id=store_id)


def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.", code="user.not_found")
    return user


def list_users(session: Session, *, store_id: int | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if store_id is not None:
        query = query.where(User.store_id == store_id)
    return list(session.scalars(query))


def create_user(session: Session, *, data: UserCreate, actor: Principal | None) -> User:
    _check_store(session, data.role, data.store_id)
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict("That username is taken.", code="user.exists")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=passwords.hash_password(data.password),
        role=data.role.value,
        store_id=data.store_id,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, actor=actor, action="user.create", entity="user", entity_id=user.id,
        after=_public(user), actor_name="cli",
    )  # fmt: skip
    return user


def update_user(session: Session, *, user_id: int, data: UserUpdate, actor: Principal) -> User:
    user = get_user(session, user_id=user_id)
    if user.id == actor.user_id and (
        data.active is False or (data.role is not None and data.role.value != user.role)
    ):
        # Otherwise the last admin can lock everybody out of user management.
        raise ValidationFailed(
            "You cannot deactivate yourself or change your own role.", code="user.self_change"
        )
    before = _public(user)
    role = data.role.value if data.role else user.role
    store_id = data.store_id if "store_id" in data.model_fields_set else user.store_id
    if role != user.role or store_id != user.store_id:
        _check_store(session, role, store_id)
    user.role, user.store_id = role, store_id
    if data.display_name is not None:
        user.display_name = data.display_name
    if data.active is not None:
        user.active = data.active
    if data.password is not None:
        user.password_hash = passwords.hash_password(data.password)
    if data.unlock:
        user.failed_logins, user.locked_until = 0, None
    session.flush()
    action = "user.permission_change" if before["role"] != user.role else "user.update"
    after = _public(user) | {"password_changed": data.password is not None, "unlock": data.unlock}
    audit.record(
        session, actor=actor, action=action, entity="user", entity_id=user.id,
        before=before, after=after,
    )  # fmt: skip
    if not user.active or data.password is not None:
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    PRINCIPALS.clear()  # role, store or access changed: no cached principal may outlive it
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    secret: str | None
    error: str | None = None


def login(
    session: Session, *, username: str, password: str, ip: str | None, settings: Settings
) -> LoginResult:
    """Failures are returned, not raised: the failure count must be committed."""
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is None or not user.active:
        passwords.burn_time(password)
        audit.record(
            session, actor=None, actor_name=username[:64], action="auth.login_failed", ip=ip
        )
        return LoginResult(None, None, "auth.invalid")
    if user.locked_until is not None and as_utc(user.locked_until) <= now:
        user.locked_until = None  # the lock has run out
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        audit.record(
            session, actor=None, actor_name=user.username, action="auth.login_locked", ip=ip
        )
        return LoginResult(None, None, "auth.locked")
    if not passwords.verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
        audit.record(
            session, actor=None, actor_name=user.username, action="auth.login_failed", ip=ip
        )
        return LoginResult(None, None, "auth.locked" if user.locked_until else "auth.invalid")
    user.failed_logins, user.locked_until = 0, None
    secret = tokens.new_secret()
    session.add(
        UserSession(
            token_hash=tokens.digest(secret), user_id=user.id, last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_max_hours), ip=ip,
        )
    )  # fmt: skip
    audit.record(
        session, actor=None, actor_name=user.username, action="auth.login", ip=ip,
        entity="user", entity_id=user.id, store_id=user.store_id,
    )  # fmt: skip
    return LoginResult(user, secret)


def logout(session: Session, *, secret: str) -> None:
    PRINCIPALS.drop(tokens.digest(secret))
    session.execute(delete(UserSession).where(UserSession.token_hash == tokens.digest(secret)))


def _principal(user: User, perms: frozenset[str], via: str, ip: str | None) -> Principal:
    return Principal(
        user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
        store_id=user.store_id, permissions=perms, via=via, ip=ip,
    )  # fmt: skip


@dataclass(frozen=True)
class SessionLookup:
    principal: Principal
    stale: bool  # last_seen is old enough to be worth refreshing


def resolve_session(
    session: Session, *, secret: str, ip: str | None, settings: Settings
) -> SessionLookup | None:
    row = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == tokens.digest(secret))
    ).first()
    if row is None:
        return None
    user_session, user = row
    now = utcnow()
    idle_limit = as_utc(user_session.last_seen_at) + timedelta(
        minutes=settings.session_idle_minutes
    )
    if not user.active or as_utc(user_session.expires_at) <= now or idle_limit <= now:
        return None
    stale = now - as_utc(user_session.last_seen_at) > timedelta(minutes=5)
    return SessionLookup(_principal(user, permissions_for(user.role), "session", ip), stale)


def touch_session(session: Session, *, secret: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == tokens.digest(secret))
        .values(last_seen_at=utcnow())
    )


def resolve_token(session: Session, *, token: str, ip: str | None) -> Principal | None:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == tokens.digest(token))
    ).first()
    if row is None:
        return None
    api_token, user = row
    now = utcnow()
    expired = api_token.expires_at is not None and as_utc(api_token.expires_at) <= now
    if not user.active or api_token.revoked_at is not None or expired:
        return None
    scopes = frozenset(api_token.scopes.split())
    return _principal(user, permissions_for(user.role) & scopes, "token", ip)


def create_token(
    session: Session, *, user_id: int, data: TokenCreate, actor: Principal | None
) -> tuple[ApiToken, str]:
    user = get_user(session, user_id=user_id)
    allowed = permissions_for(user.role)
    if actor is not None and actor.via == "token":
        # A token may only hand on what it holds itself, never its user's whole role.
        allowed = allowed & actor.permissions
    scopes = data.scopes or sorted(allowed)
    unknown = [s for s in scopes if s not in PERMISSIONS]
    if unknown:
        raise ValidationFailed(
            "Unknown scope: {scopes}",
            code="token.scope_unknown",
            details={"scopes": ", ".join(unknown)},
        )
    beyond = [s for s in scopes if s not in allowed]
    if beyond:
        raise ValidationFailed(
            "The user's role does not allow: {scopes}",
            code="token.scope_denied",
            details={"scopes": ", ".join(beyond)},
        )
    secret = tokens.new_api_token()
    expires = utcnow() + timedelta(days=data.expires_days) if data.expires_days else None
    token = ApiToken(
        name=data.name, prefix=secret[:10], token_hash=tokens.digest(secret), user_id=user.id,
        scopes=" ".join(sorted(set(scopes))), expires_at=expires,
    )  # fmt: skip
    session.add(token)
    session.flush()
    audit.record(
        session, actor=actor, action="token.create", entity="api_token", entity_id=token.id,
        after={"user": user.username, "scopes": token.scopes, "name": token.name}, actor_name="cli",
    )  # fmt: skip
    return token, secret


def list_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def revoke_token(session: Session, *, token_id: int, actor: Principal) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.can("users.write")):
        raise NotFound("No such token.", code="token.not_found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        PRINCIPALS.clear()
        audit.record(
            session, actor=actor, action="token.revoke", entity="api_token", entity_id=token.id
        )
    return token
