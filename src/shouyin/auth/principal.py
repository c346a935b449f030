"""Who is making a request and what they may do."""

from __future__ import annotations

from dataclasses import dataclass, field

from shouyin.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    store_id: int | None
    permissions: frozenset[str]
    via: str = "session"  # or "token"
    ip: str | None = None
    csrf_token: str | None = field(default=None, repr=False)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(
                "You do not have permission to do this.",
                code="auth.permission_denied",
                details={"permission": permission},
            )

    @property
    def all_stores(self) -> bool:
        return self.store_id is None

    def require_store(self, store_id: int) -> None:
        """Store-bound staff act only in their own store."""
        if self.store_id is not None and self.store_id != store_id:
            raise Forbidden("You do not work in this store.", code="store.forbidden")

    def scope_store(self, requested: int | None) -> int | None:
        """The store a listing is limited to: the user's own, or what HQ asked for."""
        if self.store_id is not None:
            if requested is not None:
                self.require_store(requested)
            return self.store_id
        return requested
