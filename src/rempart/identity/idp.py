"""Per-tenant identity provider configuration, claim mapping and identity policy.

Configuring a provider fetches its discovery document and JWKS once, checks
and pins them (``discovery.py``); logins use the pinned copies. The client
secret is sealed by the vault (``SecretSealer``, which ``rempart.vault.Vault``
satisfies) and never stored or shown in clear.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.errors import NotFound, ValidationFailed
from rempart.identity.assurance import AssuranceMapping, Level
from rempart.identity.discovery import (
    IdpMisconfigured,
    PinnedDocuments,
    check_url,
    fetch_documents,
)
from rempart.identity.jwt import ASYMMETRIC_ALGORITHMS, ValidationPolicy
from rempart.identity.models import IdentityPolicy, IdentityProvider
from rempart.types import Clock, TenantId, utc_now
from rempart.vault.format import FieldContext

Provisioning = Literal["jit", "scim"]
DEFAULT_SCOPES = ("openid", "profile", "email")
MAX_ROLES = 100


class SecretSealer(Protocol):
    """Seals small secrets under the tenant's key (``rempart.vault.Vault`` is one)."""

    def ensure_tenant(self, tenant: TenantId) -> object: ...

    def encrypt_field(self, ctx: FieldContext, plaintext: bytes) -> bytes: ...

    def decrypt_field(self, ctx: FieldContext, ciphertext: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    """Which claims carry group or role names, and which Rempart role each maps to.

    Only mapped values become roles: an IdP group nobody mapped grants nothing.
    """

    claims: tuple[str, ...] = ("groups", "roles")
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> ClaimMapping:
        config = config or {}
        claims = tuple(config.get("claims", ("groups", "roles")))
        raw = config.get("roles", {})
        if not isinstance(raw, Mapping):
            raise ValidationFailed("claim mapping 'roles' must map group names to role names")
        roles: dict[str, tuple[str, ...]] = {}
        for group, target in raw.items():
            names = (target,) if isinstance(target, str) else tuple(target)
            if not all(isinstance(n, str) and 0 < len(n) <= 100 for n in names):
                raise ValidationFailed("role names must be 1-100 characters")
            roles[str(group)] = names
        return cls(claims=claims, roles=roles)

    def to_config(self) -> dict[str, Any]:
        return {"claims": list(self.claims), "roles": {k: list(v) for k, v in self.roles.items()}}

    def roles_for(self, names: Iterable[str]) -> list[str]:
        out: set[str] = set()
        for name in names:
            out.update(self.roles.get(name, ()))
        return sorted(out)[:MAX_ROLES]

    def roles_from_claims(self, claims: Mapping[str, Any]) -> list[str]:
        values: list[str] = []
        for claim in self.claims:
            value = claims.get(claim)
            if isinstance(value, str):
                values.append(value)
            elif isinstance(value, list):
                values.extend(v for v in value if isinstance(v, str))
        return self.roles_for(values)


@dataclass(frozen=True, slots=True)
class IdpSettings:
    """What an administrator sets for a tenant's provider."""

    issuer: str
    client_id: str
    redirect_uri: str
    client_secret: SecretStr | None = None
    post_logout_redirect_uri: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    claim_mapping: ClaimMapping = field(default_factory=ClaimMapping)
    assurance_mapping: Mapping[str, Any] = field(default_factory=dict)
    provisioning: Provisioning = "jit"
    insecure_http_loopback: bool = False


def _secret_context(tenant_id: TenantId) -> FieldContext:
    # One provider per tenant: the tenant id is the row the secret belongs to.
    return FieldContext(tenant_id, "identity_providers", "client_secret", tenant_id)


def seal_client_secret(
    sealer: SecretSealer | None, tenant_id: TenantId, secret: SecretStr | None
) -> bytes | None:
    """Seal the client secret under the tenant's key (before any session is opened)."""
    if secret is None:
        return None
    if sealer is None:
        raise ValidationFailed("a client secret needs the vault to seal it")
    sealer.ensure_tenant(tenant_id)
    return sealer.encrypt_field(_secret_context(tenant_id), secret.get_secret_value().encode())


def check_settings(settings: IdpSettings) -> AssuranceMapping:
    """Refuse settings that would weaken validation; returns the parsed assurance mapping."""
    if not settings.client_id or len(settings.client_id) > 255:
        raise ValidationFailed("client id must be 1-255 characters")
    bad = set(settings.algorithms) - ASYMMETRIC_ALGORITHMS
    if bad or not settings.algorithms:
        raise ValidationFailed(
            f"allowed algorithms must be among {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}"
        )
    if "openid" not in settings.scopes:
        raise ValidationFailed("scopes must include openid")
    loopback = settings.insecure_http_loopback
    try:
        check_url(settings.redirect_uri, allow_http_loopback=loopback, what="redirect URI")
        if settings.post_logout_redirect_uri:
            check_url(
                settings.post_logout_redirect_uri,
                allow_http_loopback=loopback,
                what="post-logout redirect URI",
            )
    except IdpMisconfigured as exc:
        raise ValidationFailed(exc.detail) from exc
    try:
        return AssuranceMapping.from_config(settings.assurance_mapping)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(str(exc)) from exc


def prepare_idp(
    settings: IdpSettings, tenant_id: TenantId, *, http: httpx.Client, sealer: SecretSealer | None
) -> tuple[PinnedDocuments, bytes | None]:
    """The network and vault half of configuring: fetch and check the documents, seal."""
    check_settings(settings)
    docs = fetch_documents(
        http, settings.issuer, allow_http_loopback=settings.insecure_http_loopback
    )
    return docs, seal_client_secret(sealer, tenant_id, settings.client_secret)


def configure_idp(
    session: Session,
    tenant_id: TenantId,
    settings: IdpSettings,
    *,
    documents: PinnedDocuments,
    sealed_secret: bytes | None,
    clock: Clock = utc_now,
) -> IdentityProvider:
    """Create or replace the tenant's provider with documents from ``prepare_idp``."""
    assurance = check_settings(settings)
    now = clock()
    row = session.scalar(select(IdentityProvider))
    if row is None:
        row = IdentityProvider(tenant_id=tenant_id, created_at=now)
        session.add(row)
    row.issuer = settings.issuer
    row.client_id = settings.client_id
    row.client_secret_sealed = sealed_secret
    row.redirect_uri = settings.redirect_uri
    row.post_logout_redirect_uri = settings.post_logout_redirect_uri
    row.algorithms = list(settings.algorithms)
    row.scopes = list(settings.scopes)
    row.claim_mapping = settings.claim_mapping.to_config()
    row.assurance_mapping = assurance.to_config()
    row.provisioning = settings.provisioning
    row.insecure_http_loopback = settings.insecure_http_loopback
    row.discovery = documents.discovery
    row.jwks = documents.jwks
    row.jwks_fetched_at = now
    row.updated_at = now
    session.flush()
    return row


def refresh_idp(
    session: Session, docs: PinnedDocuments, *, clock: Clock = utc_now
) -> IdentityProvider:
    """Store freshly fetched documents (``fetch_documents`` refused a changed issuer)."""
    row = get_idp(session)
    if docs.discovery.get("issuer") != row.issuer:
        raise IdpMisconfigured("the discovery document names another issuer")
    row.discovery = docs.discovery
    row.jwks = docs.jwks
    row.jwks_fetched_at = row.updated_at = clock()
    return row


def get_idp(session: Session) -> IdentityProvider:
    row: IdentityProvider | None = session.scalar(select(IdentityProvider))
    if row is None:
        raise NotFound("this tenant has no identity provider configured")
    return row


def client_secret(row: IdentityProvider, sealer: SecretSealer | None) -> str | None:
    if row.client_secret_sealed is None:
        return None
    if sealer is None:
        raise IdpMisconfigured("the client secret is sealed and no vault is available")
    ctx = _secret_context(TenantId(row.tenant_id))
    return sealer.decrypt_field(ctx, row.client_secret_sealed).decode()


def validation_policy(row: IdentityProvider) -> ValidationPolicy:
    return ValidationPolicy(
        issuer=row.issuer, client_id=row.client_id, algorithms=frozenset(row.algorithms)
    )


def assurance_of(row: IdentityProvider) -> AssuranceMapping:
    return AssuranceMapping.from_config(row.assurance_mapping)


def claim_mapping_of(row: IdentityProvider) -> ClaimMapping:
    return ClaimMapping.from_config(row.claim_mapping)


# Policy -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicySettings:
    min_assurance: Level = Level.SINGLE_FACTOR
    idle_timeout_s: int = 1800
    absolute_timeout_s: int = 43200
    step_up_max_age_s: int = 900
    allowed_networks: tuple[str, ...] = ()


def parse_networks(values: Iterable[str]) -> list[str]:
    """IPv4 and IPv6 CIDRs in canonical form; a bad one is an error."""
    out: list[str] = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError as exc:
            raise ValidationFailed(f"not an IP network: {value!r}") from exc
    return out


def get_policy(session: Session, tenant_id: TenantId, *, clock: Clock = utc_now) -> IdentityPolicy:
    """The tenant's policy; the safe defaults when none was set (not stored)."""
    row: IdentityPolicy | None = session.scalar(select(IdentityPolicy))
    if row is not None:
        return row
    d = PolicySettings()
    return IdentityPolicy(
        tenant_id=tenant_id,
        min_assurance=int(d.min_assurance),
        idle_timeout_s=d.idle_timeout_s,
        absolute_timeout_s=d.absolute_timeout_s,
        step_up_max_age_s=d.step_up_max_age_s,
        allowed_networks=[],
        updated_at=clock(),
    )


def set_policy(
    session: Session, tenant_id: TenantId, settings: PolicySettings, *, clock: Clock = utc_now
) -> IdentityPolicy:
    if not 60 <= settings.idle_timeout_s <= settings.absolute_timeout_s <= 7 * 86400:
        raise ValidationFailed("timeouts must satisfy 60 s <= idle <= absolute <= 7 days")
    if not 0 <= settings.step_up_max_age_s <= 86400:
        raise ValidationFailed("step-up maximum age must be 0-86400 seconds")
    networks = parse_networks(settings.allowed_networks)
    row = session.scalar(select(IdentityPolicy))
    if row is None:
        row = IdentityPolicy(tenant_id=tenant_id)
        session.add(row)
    row.min_assurance = int(settings.min_assurance)
    row.idle_timeout_s = settings.idle_timeout_s
    row.absolute_timeout_s = settings.absolute_timeout_s
    row.step_up_max_age_s = settings.step_up_max_age_s
    row.allowed_networks = networks
    row.updated_at = clock()
    session.flush()
    return row


__all__ = [
    "ClaimMapping",
    "IdpSettings",
    "PolicySettings",
    "Provisioning",
    "SecretSealer",
    "assurance_of",
    "check_settings",
    "claim_mapping_of",
    "client_secret",
    "configure_idp",
    "get_idp",
    "get_policy",
    "parse_networks",
    "prepare_idp",
    "refresh_idp",
    "seal_client_secret",
    "set_policy",
    "validation_policy",
]
