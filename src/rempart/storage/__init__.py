"""Storage: engines, sessions scoped to a tenant, the tenant registry and migrations."""

from rempart.storage.base import Base, TenantScoped, UTCDateTime, new_id
from rempart.storage.database import Database
from rempart.storage.tenancy import CrossTenantWrite, TenantContext, TenantContextMissing

__all__ = [
    "Base",
    "CrossTenantWrite",
    "Database",
    "TenantContext",
    "TenantContextMissing",
    "TenantScoped",
    "UTCDateTime",
    "new_id",
]
