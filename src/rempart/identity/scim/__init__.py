"""SCIM 2.0 provisioning (RFC 7643/7644) for one tenant's Users and Groups (scim2-models)."""

from rempart.identity.scim.groups import (
    create_group,
    delete_group,
    get_group,
    group_members,
    list_groups,
    load_group,
    patch_group,
    replace_group,
)
from rempart.identity.scim.messages import (
    MAX_RESULTS,
    ScimError,
    ScimUser,
    normalise_patch,
    parse_filter,
)
from rempart.identity.scim.users import (
    create_user,
    delete_user,
    get_user,
    list_users,
    load_user,
    patch_user,
    replace_user,
    user_groups,
)

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
    "parse_filter",
    "patch_group",
    "patch_user",
    "replace_group",
    "replace_user",
    "user_groups",
]
