"""SCIM Groups of one tenant; members are live users of the same tenant.

Group names become roles through the provider's claim mapping at each
request (``sessions.effective_roles``), so a membership change takes effect
at the next request.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from scim2_models import Context, Group, SCIMException
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rempart.identity.models import ScimGroup, ScimGroupMember
from rempart.identity.models import User as UserRow
from rempart.identity.scim.messages import (
    ScimError,
    from_scim_exception,
    from_validation,
    parse_filter,
    parse_group,
    parse_patch,
)
from rempart.identity.scim.users import MAX_SCAN, live_user
from rempart.types import Clock, TenantId, utc_now


def _member_ids(session: Session, group: Group) -> dict[str, str | None]:
    """Member user ids (each must be a live user of the tenant) and their display names."""
    ids: dict[str, str | None] = {}
    for member in group.members or []:
        if not member.value:
            raise ScimError("a member needs a value", scim_type="invalidValue")
        live_user(session, member.value)
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
        raise from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise from_validation(exc) from exc
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
            raise from_scim_exception(exc) from exc
    return out


__all__ = [
    "create_group",
    "delete_group",
    "get_group",
    "group_members",
    "list_groups",
    "load_group",
    "patch_group",
    "replace_group",
]
