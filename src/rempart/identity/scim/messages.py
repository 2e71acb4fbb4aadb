"""SCIM messages: errors, payload, filter and PATCH parsing (scim2-models), Entra ID forms.

Payloads are validated by scim2-models (unknown attributes refused), filters
and PATCH operations are evaluated by it; Entra ID's non-standard PATCH forms
are rewritten to RFC 7644 first (``normalise_patch``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from scim2_models import Context, EnterpriseUser, Group, PatchOp, SCIMException, ScimFilter, User

from rempart.errors import RempartError

ScimUser = User[EnterpriseUser]
MAX_RESULTS = 200


class ScimError(RempartError):
    """A SCIM protocol error; ``scim_type`` is RFC 7644's ``scimType``."""

    status = 400
    title = "SCIM request refused"
    slug = "scim-error"

    def __init__(self, detail: str, *, status: int = 400, scim_type: str | None = None) -> None:
        super().__init__(detail, scim_type=scim_type)
        self.http_status = status
        self.scim_type = scim_type


def from_scim_exception(exc: SCIMException) -> ScimError:
    status = int(getattr(exc, "status", 400) or 400)
    return ScimError(str(getattr(exc, "detail", "") or exc), status=status, scim_type=exc.scim_type)


def from_validation(exc: ValidationError) -> ScimError:
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
        raise from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise from_validation(exc) from exc


def parse_group(payload: Any, ctx: Context) -> Group:
    try:
        return Group.model_validate(payload, scim_ctx=ctx)
    except SCIMException as exc:
        raise from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise from_validation(exc) from exc


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
        raise from_scim_exception(exc) from exc
    except ValidationError as exc:
        raise from_validation(exc) from exc


__all__ = [
    "MAX_RESULTS",
    "ScimError",
    "ScimUser",
    "from_scim_exception",
    "from_validation",
    "normalise_patch",
    "parse_filter",
    "parse_group",
    "parse_patch",
    "parse_user",
]
