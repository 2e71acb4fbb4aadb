"""SCIM Users of one tenant: create, replace, patch, soft-delete, list with filters.

A provisioned user is matched at login by (issuer, subject) where the subject
is the SCIM ``externalId`` (the IdP's ``sub`` for that person) or, without
one, the ``userName``. Users keep their full SCIM representation (never a
password: write-only attributes are dropped) and the columns Rempart reads.
Deactivating or deleting a user revokes all of their sessions in the same
transaction, so the next request on any of them fails. Deletion is soft
(the row may be referenced by interactions and audit); the resource is gone
for SCIM.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from scim2_models import Context, EnterpriseUser, SCIMException, User
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from rempart.identity.models import IdentityProvider, ScimGroup, ScimGroupMember
from rempart.identity.models import User as UserRow
from rempart.identity.scim.messages import (
    ScimError,
    ScimUser,
    from_scim_exception,
    from_validation,
    parse_filter,
    parse_patch,
    parse_user,
)
from rempart.identity.sessions import revoke_user_sessions
from rempart.types import Clock, TenantId, utc_now

MAX_SCAN = 20_000
DELETED = "__rempart_deleted__"


def _stored(resource: User[EnterpriseUser]) -> dict[str, Any]:
    data = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    for key in ("id", "meta", "groups"):
        data.pop(key, None)
    return data


def _subject(resource: User[EnterpriseUser]) -> str:
    subject = resource.external_id or resource.user_name
    if not subject:
        raise ScimError("userName is required", scim_type="invalidValue")
    if len(subject) > 255:
        raise ScimError("externalId or userName too long", scim_type="invalidValue")
    return subject


def _primary_email(resource: User[EnterpriseUser]) -> str | None:
    emails = resource.emails or []
    chosen = next((e for e in emails if e.primary), emails[0] if emails else None)
    return str(chosen.value) if chosen is not None and chosen.value else None


def _display(resource: User[EnterpriseUser]) -> str:
    if resource.display_name:
        return resource.display_name[:200]
    if resource.name is not None and resource.name.formatted:
        return resource.name.formatted[:200]
    return (resource.user_name or "")[:200]


def _issuer(session: Session) -> str:
    issuer = session.scalar(select(IdentityProvider.issuer))
    if issuer is None:
        raise ScimError(
            "configure the tenant's identity provider before provisioning users",
            status=409,
            scim_type="invalidValue",
        )
    return str(issuer)


def live_user(session: Session, user_id: str) -> UserRow:
    row = session.get(UserRow, user_id)
    if row is None or (row.scim_attributes or {}).get(DELETED):
        raise ScimError(f"no user {user_id}", status=404)
    return row


def _check_unique(session: Session, user_name: str, *, except_id: str | None = None) -> None:
    stmt = select(UserRow.id, UserRow.scim_attributes).where(
        func.lower(UserRow.user_name) == user_name.lower()
    )
    for row_id, attrs in session.execute(stmt).all():
        if row_id != except_id and not (attrs or {}).get(DELETED):
            raise ScimError("userName is already taken", status=409, scim_type="uniqueness")


def _apply(session: Session, row: UserRow, resource: User[EnterpriseUser], now: datetime) -> int:
    """Write the resource onto the row; ends sessions when the user is deactivated."""
    was_active = row.active
    row.user_name = resource.user_name
    row.external_id = resource.external_id
    row.display_name = _display(resource)
    row.email = _primary_email(resource)
    # An absent "active" means active (RFC 7643 leaves it to the provider).
    row.active = resource.active is not False
    row.scim_attributes = _stored(resource)
    row.updated_at = now
    if was_active and not row.active:
        return revoke_user_sessions(session, row.id, reason="deprovisioned", clock=lambda: now)
    return 0


def create_user(
    session: Session, tenant_id: TenantId, payload: Any, *, clock: Clock = utc_now
) -> UserRow:
    resource = parse_user(payload, Context.RESOURCE_CREATION_REQUEST)
    if not resource.user_name:
        raise ScimError("userName is required", scim_type="invalidValue")
    _check_unique(session, resource.user_name)
    issuer = _issuer(session)
    subject = _subject(resource)
    now = clock()
    row = session.scalar(
        select(UserRow).where(UserRow.issuer == issuer, UserRow.subject == subject)
    )
    if row is not None and not (row.scim_attributes or {}).get(DELETED):
        raise ScimError(
            "a user with this externalId already exists", status=409, scim_type="uniqueness"
        )
    if row is None:
        row = UserRow(
            tenant_id=tenant_id, issuer=issuer, subject=subject, active=True, created_at=now
        )
        session.add(row)
    else:
        # A deleted user provisioned again: same person, same row.
        row.created_at = now
    _apply(session, row, resource, now)
    session.flush()
    return row


def replace_user(
    session: Session, user_id: str, payload: Any, *, clock: Clock = utc_now
) -> UserRow:
    row = live_user(session, user_id)
    resource = parse_user(payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    if not resource.user_name:
        raise ScimError("userName is required", scim_type="invalidValue")
    _check_unique(session, resource.user_name, except_id=row.id)
    _apply(session, row, resource, clock())
    return row


def load_user(row: UserRow) -> User[EnterpriseUser]:
    data = dict(row.scim_attributes or {})
    data.pop(DELETED, None)
    if not data:
        data = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": row.user_name or row.subject,
            "displayName": row.display_name or None,
            "active": row.active,
        }
        if row.email:
            data["emails"] = [{"value": row.email, "primary": True}]
    if not row.active:
        data["active"] = False
    return ScimUser.model_validate(data)


def patch_user(session: Session, user_id: str, payload: Any, *, clock: Clock = utc_now) -> UserRow:
    row = live_user(session, user_id)
    patch = parse_patch(payload, ScimUser)
    resource = load_user(row)
    try:
        patch.patch(resource)
        # Re-validate the result as a replacement, as if the client had PUT it.
        checked = parse_user(
            resource.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST),
            Context.RESOURCE_REPLACEMENT_REQUEST,
        )
    except SCIMException as exc:
        raise from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise from_validation(exc) from exc
    if not checked.user_name:
        raise ScimError("userName is required", scim_type="invalidValue")
    _check_unique(session, checked.user_name, except_id=row.id)
    _apply(session, row, checked, clock())
    return row


def delete_user(session: Session, user_id: str, *, clock: Clock = utc_now) -> int:
    """Soft-delete: inactive, out of every group, every session ended; gone for SCIM."""
    row = live_user(session, user_id)
    now = clock()
    ended = revoke_user_sessions(session, row.id, reason="deprovisioned", clock=lambda: now)
    row.active = False
    row.scim_attributes = {**(row.scim_attributes or {}), DELETED: True}
    row.updated_at = now
    session.execute(delete(ScimGroupMember).where(ScimGroupMember.user_id == row.id))
    return ended


def get_user(session: Session, user_id: str) -> UserRow:
    return live_user(session, user_id)


# The lookups provisioning clients make before every write (Entra ID: userName
# or externalId eq "..."), answered by the database instead of a scan.
_EQ_FILTER = re.compile(r'^\s*(userName|externalId|id)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.I)


def _candidates(filter_: str | None) -> Select[UserRow]:
    stmt = select(UserRow).order_by(UserRow.created_at, UserRow.id)
    match = _EQ_FILTER.match(filter_ or "")
    if match is None:
        return stmt.limit(MAX_SCAN)
    attr, raw = match.group(1).lower(), match.group(2)
    try:
        value = json.loads(f'"{raw}"')
    except ValueError:
        return stmt.limit(MAX_SCAN)
    if attr == "username":
        return stmt.where(func.lower(UserRow.user_name) == value.lower())
    if attr == "externalid":
        return stmt.where(UserRow.external_id == value)
    return stmt.where(UserRow.id == value)


def list_users(session: Session, filter_: str | None, *, lenient: bool = False) -> list[UserRow]:
    rows = [
        r
        for r in session.scalars(_candidates(filter_))
        if not (r.scim_attributes or {}).get(DELETED)
    ]
    if not filter_:
        return rows
    try:
        compiled = parse_filter(filter_, ScimUser)
    except ScimError:
        if lenient:
            return []
        raise
    # The filter is evaluated on every candidate even when SQL chose them.
    out = []
    for row in rows:
        resource = load_user(row)
        resource.id = row.id
        try:
            if compiled.match(resource):
                out.append(row)
        except SCIMException as exc:
            if lenient:
                return []
            raise from_scim_exception(exc) from exc
    return out


def user_groups(session: Session, user_id: str) -> list[tuple[str, str]]:
    return [
        (gid, name)
        for gid, name in session.execute(
            select(ScimGroup.id, ScimGroup.display_name)
            .join(ScimGroupMember, ScimGroupMember.group_id == ScimGroup.id)
            .where(ScimGroupMember.user_id == user_id)
            .order_by(ScimGroup.display_name)
        ).all()
    ]


__all__ = [
    "DELETED",
    "MAX_SCAN",
    "create_user",
    "delete_user",
    "get_user",
    "list_users",
    "live_user",
    "load_user",
    "patch_user",
    "replace_user",
    "user_groups",
]
