"""SCIM 2.0 provisioning (RFC 7643/7644) for one tenant's Users and Groups (scim2-models).

Payloads are validated by scim2-models (unknown attributes refused), filters
and PATCH operations are evaluated by it, with Entra ID's non-standard forms
normalised first. Users keep their full SCIM representation (never a
password: write-only attributes are dropped) and the columns Rempart reads.

A provisioned user is matched at login by (issuer, subject) where the subject
is the SCIM ``externalId`` (the IdP's ``sub`` for that person) or, without
one, the ``userName``. Deactivating or deleting a user revokes all of their
sessions in the same transaction, so the next request on any of them fails.
Deletion is soft (the row may be referenced by interactions and audit), the
resource is gone for SCIM. Group names are mapped to roles through the
provider's claim mapping at each request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    EnterpriseUser,
    Group,
    PatchOp,
    SCIMException,
    ScimFilter,
    User,
)
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rempart.errors import RempartError
from rempart.identity.models import IdentityProvider, ScimGroup, ScimGroupMember
from rempart.identity.models import User as UserRow
from rempart.identity.sessions import revoke_user_sessions
from rempart.types import Clock, TenantId, utc_now

ScimUser = User[EnterpriseUser]
MAX_RESULTS = 200
MAX_SCAN = 20_000
DELETED = "__rempart_deleted__"


class ScimError(RempartError):
    """A SCIM protocol error; ``scim_type`` is RFC 7644's ``scimType``."""

    status = 400
    title = "SCIM request refused"
    slug = "scim-error"

    def __init__(self, detail: str, *, status: int = 400, scim_type: str | None = None) -> None:
        super().__init__(detail, scim_type=scim_type)
        self.http_status = status
        self.scim_type = scim_type


def _from_scim_exception(exc: SCIMException) -> ScimError:
    status = int(getattr(exc, "status", 400) or 400)
    return ScimError(str(getattr(exc, "detail", "") or exc), status=status, scim_type=exc.scim_type)


def _from_validation(exc: ValidationError) -> ScimError:
    errors = exc.errors()
    first: dict[str, Any] = dict(errors[0]) if errors else {}
    loc = ".".join(str(p) for p in first.get("loc", ())) or "payload"
    kind = str(first.get("type", ""))
    scim_type = "invalidValue"
    if kind.startswith("scim_"):
        scim_type = kind.removeprefix("scim_")
    elif kind == "extra_forbidden":
        scim_type = "invalidSyntax"
        return ScimError(f"unknown attribute: {loc}", scim_type=scim_type)
    return ScimError(f"invalid value for {loc}: {first.get('msg', 'invalid')}", scim_type=scim_type)


def parse_user(payload: Any, ctx: Context) -> User[EnterpriseUser]:
    try:
        return ScimUser.model_validate(payload, scim_ctx=ctx)
    except SCIMException as exc:
        raise _from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise _from_validation(exc) from exc


def parse_group(payload: Any, ctx: Context) -> Group:
    try:
        return Group.model_validate(payload, scim_ctx=ctx)
    except SCIMException as exc:
        raise _from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise _from_validation(exc) from exc


def parse_filter(expression: str, model: type[Any]) -> ScimFilter[Any]:
    if len(expression) > 1000:
        raise ScimError("filter too long", scim_type="invalidFilter")
    try:
        return ScimFilter[model](expression)  # type: ignore[valid-type]
    except SCIMException as exc:
        raise ScimError(f"invalid filter: {exc}", scim_type="invalidFilter") from exc
    except (ValueError, TypeError) as exc:
        raise ScimError("invalid filter", scim_type="invalidFilter") from exc


# Entra ID sends PATCH operations RFC 7644 does not allow; rewrite them.
def normalise_patch(payload: Any) -> Any:
    if not isinstance(payload, dict):
        return payload
    ops = payload.get("Operations")
    if not isinstance(ops, list):
        return payload
    out: list[Any] = []
    for op in ops:
        if not isinstance(op, dict):
            out.append(op)
            continue
        op = dict(op)
        name = str(op.get("op", "")).lower()
        op["op"] = name
        path = op.get("path")
        value = op.get("value")
        # "Remove" of members with the members listed in "value".
        if (
            name == "remove"
            and isinstance(path, str)
            and path.lower() == "members"
            and isinstance(value, list)
            and value
        ):
            for member in value:
                if isinstance(member, dict) and isinstance(member.get("value"), str):
                    quoted = member["value"].replace("\\", "\\\\").replace('"', '\\"')
                    out.append({"op": "remove", "path": f'members[value eq "{quoted}"]'})
            continue
        # Booleans sent as the strings "True"/"False".
        if isinstance(path, str) and path.lower() == "active" and isinstance(value, str):
            op["value"] = value.strip().lower() == "true"
        if path is None and isinstance(value, dict):
            fixed = dict(value)
            for key, item in value.items():
                if key.lower() == "active" and isinstance(item, str):
                    fixed[key] = item.strip().lower() == "true"
            op["value"] = fixed
        out.append(op)
    return {**payload, "Operations": out}


def parse_patch(payload: Any, model: type[Any]) -> PatchOp[Any]:
    try:
        return PatchOp[model].model_validate(  # type: ignore[valid-type]
            normalise_patch(payload), scim_ctx=Context.RESOURCE_PATCH_REQUEST
        )
    except SCIMException as exc:
        raise _from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise _from_validation(exc) from exc


# Users ------------------------------------------------------------------


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


def _live_user(session: Session, user_id: str) -> UserRow:
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
    row = _live_user(session, user_id)
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
    row = _live_user(session, user_id)
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
        raise _from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise _from_validation(exc) from exc
    if not checked.user_name:
        raise ScimError("userName is required", scim_type="invalidValue")
    _check_unique(session, checked.user_name, except_id=row.id)
    _apply(session, row, checked, clock())
    return row


def delete_user(session: Session, user_id: str, *, clock: Clock = utc_now) -> int:
    """Soft-delete: inactive, out of every group, every session ended; gone for SCIM."""
    row = _live_user(session, user_id)
    now = clock()
    ended = revoke_user_sessions(session, row.id, reason="deprovisioned", clock=lambda: now)
    row.active = False
    row.scim_attributes = {**(row.scim_attributes or {}), DELETED: True}
    row.updated_at = now
    session.execute(delete(ScimGroupMember).where(ScimGroupMember.user_id == row.id))
    return ended


def get_user(session: Session, user_id: str) -> UserRow:
    return _live_user(session, user_id)


def list_users(session: Session, filter_: str | None, *, lenient: bool = False) -> list[UserRow]:
    rows = [
        r
        for r in session.scalars(
            select(UserRow).order_by(UserRow.created_at, UserRow.id).limit(MAX_SCAN)
        )
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
            raise _from_scim_exception(exc) from exc
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


# Groups -----------------------------------------------------------------


def _member_ids(session: Session, group: Group) -> dict[str, str | None]:
    """Member user ids (each must be a live user of the tenant) and their display names."""
    ids: dict[str, str | None] = {}
    for member in group.members or []:
        if not member.value:
            raise ScimError("a member needs a value", scim_type="invalidValue")
        _live_user(session, member.value)
        # A later entry for the same member (a PATCH add) carries the newer display.
        ids[member.value] = member.display or ids.get(member.value)
    return ids


def _set_members(session: Session, row: ScimGroup, ids: dict[str, str | None]) -> None:
    session.execute(delete(ScimGroupMember).where(ScimGroupMember.group_id == row.id))
    session.flush()
    for uid in ids:
        session.add(ScimGroupMember(tenant_id=row.tenant_id, group_id=row.id, user_id=uid))
    row.member_displays = {uid: d for uid, d in ids.items() if d}


def _check_group_name(session: Session, name: str | None, *, except_id: str | None = None) -> str:
    if not name or len(name) > 255:
        raise ScimError(
            "displayName is required (at most 255 characters)", scim_type="invalidValue"
        )
    clash = session.scalar(
        select(ScimGroup.id).where(func.lower(ScimGroup.display_name) == name.lower())
    )
    if clash is not None and clash != except_id:
        raise ScimError("a group with this displayName exists", status=409, scim_type="uniqueness")
    return name


def create_group(
    session: Session, tenant_id: TenantId, payload: Any, *, clock: Clock = utc_now
) -> ScimGroup:
    group = parse_group(payload, Context.RESOURCE_CREATION_REQUEST)
    name = _check_group_name(session, group.display_name)
    ids = _member_ids(session, group)
    now = clock()
    row = ScimGroup(
        tenant_id=tenant_id,
        display_name=name,
        external_id=group.external_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _set_members(session, row, ids)
    session.flush()
    return row


def get_group(session: Session, group_id: str) -> ScimGroup:
    row = session.get(ScimGroup, group_id)
    if row is None:
        raise ScimError(f"no group {group_id}", status=404)
    return row


def group_members(session: Session, group_id: str) -> list[tuple[str, str]]:
    return [
        (uid, display or "")
        for uid, display in session.execute(
            select(UserRow.id, UserRow.display_name)
            .join(ScimGroupMember, ScimGroupMember.user_id == UserRow.id)
            .where(ScimGroupMember.group_id == group_id)
            .order_by(UserRow.id)
        ).all()
    ]


def load_group(session: Session, row: ScimGroup) -> Group:
    displays = row.member_displays or {}
    members = [
        {"value": uid, "display": displays.get(uid) or name or None, "type": "User"}
        for uid, name in group_members(session, row.id)
    ]
    data: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": row.id,
        "displayName": row.display_name,
        "members": members or None,
    }
    if row.external_id:
        data["externalId"] = row.external_id
    return Group.model_validate({k: v for k, v in data.items() if v is not None})


def replace_group(
    session: Session, group_id: str, payload: Any, *, clock: Clock = utc_now
) -> ScimGroup:
    row = get_group(session, group_id)
    group = parse_group(payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    row.display_name = _check_group_name(session, group.display_name, except_id=row.id)
    row.external_id = group.external_id
    _set_members(session, row, _member_ids(session, group))
    row.updated_at = clock()
    return row


def patch_group(
    session: Session, group_id: str, payload: Any, *, clock: Clock = utc_now
) -> ScimGroup:
    row = get_group(session, group_id)
    patch = parse_patch(payload, Group)
    group = load_group(session, row)
    try:
        patch.patch(group)
    except SCIMException as exc:
        raise _from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise _from_validation(exc) from exc
    row.display_name = _check_group_name(session, group.display_name, except_id=row.id)
    row.external_id = group.external_id
    _set_members(session, row, _member_ids(session, group))
    row.updated_at = clock()
    return row


def delete_group(session: Session, group_id: str) -> None:
    row = get_group(session, group_id)
    session.execute(delete(ScimGroupMember).where(ScimGroupMember.group_id == row.id))
    session.delete(row)


def list_groups(session: Session, filter_: str | None, *, lenient: bool = False) -> list[ScimGroup]:
    rows = list(
        session.scalars(
            select(ScimGroup).order_by(ScimGroup.created_at, ScimGroup.id).limit(MAX_SCAN)
        )
    )
    if not filter_:
        return rows
    try:
        compiled = parse_filter(filter_, Group)
    except ScimError:
        if lenient:
            return []
        raise
    out = []
    for row in rows:
        try:
            if compiled.match(load_group(session, row)):
                out.append(row)
        except SCIMException as exc:
            if lenient:
                return []
            raise _from_scim_exception(exc) from exc
    return out


__all__ = [
    "MAX_RESULTS",
    "ScimError",
    "ScimUser",
    "create_group",
    "create_user",
    "delete_group",
    "delete_user",
    "get_group",
    "get_user",
    "group_members",
    "list_groups",
    "list_users",
    "load_group",
    "load_user",
    "normalise_patch",
    "patch_group",
    "patch_user",
    "replace_group",
    "replace_user",
    "user_groups",
]
