"""SCIM JSON out: resources with ``meta``, list responses, projections, discovery documents.

``base`` is the SCIM base URL the client used (``https://host/scim/v2``);
locations and references are built from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Patch,
    ResourceType,
    ResponseParameters,
    SCIMException,
    ServiceProviderConfig,
    Sort,
    User,
)
from sqlalchemy.orm import Session

from rempart.identity.models import ScimGroup
from rempart.identity.models import User as UserRow
from rempart.identity.scim.groups import load_group
from rempart.identity.scim.messages import MAX_RESULTS, ScimError, ScimUser
from rempart.identity.scim.users import load_user, user_groups

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def meta(
    base: str, kind: str, rid: str, created: datetime, updated: datetime | None
) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": created.isoformat(),
        "lastModified": (updated or created).isoformat(),
        "location": f"{base}/{kind}s/{rid}",
    }


def projection(model: type[Any], attributes: str | None, excluded: str | None) -> dict[str, Any]:
    """``model_dump`` arguments for ``attributes``/``excludedAttributes`` (RFC 7644, 3.9)."""
    params = {k: v for k, v in (("attributes", attributes), ("excludedAttributes", excluded)) if v}
    if not params:
        return {}
    try:
        parsed = ResponseParameters[model].model_validate(params)  # type: ignore[valid-type]
    except (SCIMException, ValidationError) as exc:
        raise ScimError("invalid attributes", scim_type="invalidPath") from exc
    return {"response_parameters": parsed}


def user_resource(
    session: Session, row: UserRow, *, base: str, ctx: Context, project: dict[str, Any]
) -> dict[str, Any]:
    resource = load_user(row)
    resource.id = row.id
    data = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    data["id"] = row.id
    groups = user_groups(session, row.id)
    if groups:
        data["groups"] = [
            {"value": gid, "display": name, "$ref": f"{base}/Groups/{gid}", "type": "direct"}
            for gid, name in groups
        ]
    data["meta"] = meta(base, "User", row.id, row.created_at, row.updated_at)
    return ScimUser.model_validate(data).model_dump(scim_ctx=ctx, **project)


def group_resource(
    session: Session, row: ScimGroup, *, base: str, ctx: Context, project: dict[str, Any]
) -> dict[str, Any]:
    data = load_group(session, row).model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    for member in data.get("members", []) or []:
        member["$ref"] = f"{base}/Users/{member['value']}"
    data["meta"] = meta(base, "Group", row.id, row.created_at, row.updated_at)
    return Group.model_validate(data).model_dump(scim_ctx=ctx, **project)


def page(start_index: str | None, count: str | None) -> tuple[int, int]:
    try:
        start = max(1, int(start_index or "1"))
        size = int(count or str(MAX_RESULTS))
    except ValueError as exc:
        raise ScimError("startIndex and count must be integers", scim_type="invalidValue") from exc
    return start, min(max(size, 0), MAX_RESULTS)


def list_response(resources: list[dict[str, Any]], total: int, start: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def service_provider_config(base: str) -> dict[str, Any]:
    config = ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A Rempart machine token with the scim:provision scope",
                primary=True,
            )
        ],
    )
    body = config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    body["meta"] = {
        "resourceType": "ServiceProviderConfig",
        "location": f"{base}/ServiceProviderConfig",
    }
    return body


def resource_types(base: str) -> list[dict[str, Any]]:
    out = []
    for model in (ScimUser, Group):
        body = ResourceType.from_resource(model).model_dump(
            scim_ctx=Context.RESOURCE_QUERY_RESPONSE
        )
        body["meta"] = {
            "resourceType": "ResourceType",
            "location": f"{base}/ResourceTypes/{body['id']}",
        }
        out.append(body)
    return out


def schemas(base: str) -> list[dict[str, Any]]:
    out = []
    for model in (User, Group, EnterpriseUser):
        body = model.to_schema().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        body["meta"] = {"resourceType": "Schema", "location": f"{base}/Schemas/{body['id']}"}
        out.append(body)
    return out


__all__ = [
    "LIST_SCHEMA",
    "group_resource",
    "list_response",
    "meta",
    "page",
    "projection",
    "resource_types",
    "schemas",
    "service_provider_config",
    "user_resource",
]
