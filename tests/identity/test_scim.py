"""SCIM 2.0 provisioning: protocol checks (scim2-tester), Entra ID forms, deprovisioning."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status

from rempart.audit import query
from rempart.identity.sessions import COOKIE_NAME
from tests.api.conftest import issue
from tests.identity.conftest import BOTH_LANES, App, TenantIdp, configure, me, sign_in
from tests.identity.oidc_server import OidcServer

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Scim:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(f"/scim/v2{path}", json=body, headers=self.headers)

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(f"/scim/v2{path}", json=body, headers=self.headers)

    def patch(self, path: str, *ops: dict[str, Any]) -> Any:
        body = {"schemas": [PATCH], "Operations": list(ops)}
        return self.client.patch(f"/scim/v2{path}", json=body, headers=self.headers)

    def get(self, path: str, **params: str) -> Any:
        return self.client.get(f"/scim/v2{path}", params=params, headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/scim/v2{path}", headers=self.headers)

    def user(self, user_name: str, external_id: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"schemas": [USER], "userName": user_name, "active": True, **extra}
        if external_id:
            body["externalId"] = external_id
        response = self.post("/Users", body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


def _setup(app: App, oidc: OidcServer, **kw: Any) -> tuple[TenantIdp, Scim]:
    t = configure(app.db, app.identity, oidc, **kw)
    caller = issue(app.db, t.ctx, scopes=["scim:provision"])
    return t, Scim(app.client, caller.token)


def test_scim2_tester_checks_pass(app: App, oidc: OidcServer) -> None:
    _, scim = _setup(app, oidc)
    http = TestClient(
        app.client.app,
        base_url="https://testserver/scim/v2/",
        headers={"Authorization": scim.headers["Authorization"]},
    )
    results = check_server(SyncSCIMClient(http))
    assert results
    failures = [
        f"{r.title}: {r.reason}"
        for r in results
        if r.status not in (Status.SUCCESS, Status.SKIPPED)
    ]
    print("\n".join(failures))
    assert failures == []


def test_scim_needs_a_token_with_the_provisioning_scope(app: App, oidc: OidcServer) -> None:
    t, scim = _setup(app, oidc)
    missing = app.client.get("/scim/v2/Users")
    assert missing.status_code == 401
    assert missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert missing.headers["content-type"].startswith("application/scim+json")
    reader = issue(app.db, t.ctx, scopes=["interaction:read"])
    assert app.client.get("/scim/v2/Users", headers=reader.headers).status_code == 403
    forged = {"Authorization": scim.headers["Authorization"][:-4] + "AAAA"}
    assert app.client.get("/scim/v2/Users", headers=forged).status_code == 401


@BOTH_LANES
def test_one_tenant_never_sees_anothers_users(app: App, oidc: OidcServer) -> None:
    _, scim_a = _setup(app, oidc)
    _, scim_b = _setup(app, oidc)
    alice = scim_a.user("alice@a.example", "alice")
    assert scim_b.get(f"/Users/{alice['id']}").status_code == 404
    assert scim_b.get("/Users").json()["totalResults"] == 0
    assert (
        scim_b.patch(
            f"/Users/{alice['id']}", {"op": "replace", "path": "active", "value": False}
        ).status_code
        == 404
    )
    assert scim_a.get(f"/Users/{alice['id']}").json()["active"] is True


@BOTH_LANES
def test_unknown_attribute_or_bad_json_is_a_precise_error_and_audited(
    app: App, oidc: OidcServer
) -> None:
    t, scim = _setup(app, oidc)
    response = scim.post("/Users", {"schemas": [USER], "userName": "x", "favouriteColour": "red"})
    assert response.status_code == 400
    body = response.json()
    assert body["scimType"] == "invalidSyntax"
    assert "favouriteColour" in body["detail"]
    bad = app.client.post("/scim/v2/Users", content=b"{not json", headers=scim.headers)
    assert bad.status_code == 400
    assert bad.json()["scimType"] == "invalidSyntax"
    assert scim.get("/Users").json()["totalResults"] == 0
    with app.db.tenant_session(t.ctx) as s:
        failures = [e for e in query(s, action="scim.user.create") if e.outcome == "failure"]
    assert failures


def test_usernames_are_unique_case_insensitively(app: App, oidc: OidcServer) -> None:
    _, scim = _setup(app, oidc)
    scim.user("Bob@Example.com", "bob")
    clash = scim.post(
        "/Users", {"schemas": [USER], "userName": "bob@example.com", "externalId": "bob2"}
    )
    assert clash.status_code == 409
    assert clash.json()["scimType"] == "uniqueness"


def test_filters_select_users_and_bad_filters_are_refused(app: App, oidc: OidcServer) -> None:
    _, scim = _setup(app, oidc)
    scim.user("alice@example.com", "alice", emails=[{"value": "alice@example.com", "type": "work"}])
    scim.user("bob@example.com", "bob")
    found = scim.get("/Users", filter='userName eq "ALICE@example.com"').json()
    assert [r["externalId"] for r in found["Resources"]] == ["alice"]
    by_external = scim.get("/Users", filter='externalId eq "bob"').json()
    assert by_external["totalResults"] == 1
    combined = scim.get(
        "/Users", filter='emails[type eq "work"].value co "alice" or userName sw "bob"'
    )
    assert combined.json()["totalResults"] == 2
    page = scim.get("/Users", startIndex="2", count="1").json()
    assert page["startIndex"] == 2
    assert page["itemsPerPage"] == 1
    assert page["totalResults"] == 2
    for bad in ("userName eq", 'userName zz "x"', '(userName eq "x"'):
        refused = scim.get("/Users", filter=bad)
        assert refused.status_code == 400
        assert refused.json()["scimType"] == "invalidFilter"


def test_entra_id_patch_forms_are_understood(app: App, oidc: OidcServer) -> None:
    _, scim = _setup(app, oidc)
    user = scim.user(
        "carol@example.com", "carol", emails=[{"value": "c@example.com", "type": "work"}]
    )
    uid = user["id"]
    r = scim.patch(f"/Users/{uid}", {"op": "Replace", "path": "active", "value": "False"})
    assert r.status_code == 200
    assert r.json()["active"] is False
    r = scim.patch(
        f"/Users/{uid}", {"op": "Replace", "value": {"active": "True", "displayName": "Carol C"}}
    )
    assert r.json()["active"] is True
    assert r.json()["displayName"] == "Carol C"
    r = scim.patch(
        f"/Users/{uid}",
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "carol@new.example.com"},
    )
    assert r.json()["emails"][0]["value"] == "carol@new.example.com"
    r = scim.patch(
        f"/Users/{uid}",
        {
            "op": "Add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "value": "Claims",
        },
    )
    assert (
        r.json()["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"]
        == "Claims"
    )
    group = scim.post(
        "/Groups", {"schemas": [GROUP], "displayName": "cc-sup", "members": [{"value": uid}]}
    )
    assert group.status_code == 201
    gid = group.json()["id"]
    r = scim.patch(f"/Groups/{gid}", {"op": "Remove", "path": "members", "value": [{"value": uid}]})
    assert r.status_code == 200
    assert not r.json().get("members")
    r = scim.patch(f"/Groups/{gid}", {"op": "Add", "path": "members", "value": [{"value": uid}]})
    assert [m["value"] for m in r.json()["members"]] == [uid]
    r = scim.patch(f"/Groups/{gid}", {"op": "remove", "path": f'members[value eq "{uid}"]'})
    assert not r.json().get("members")
    bad = scim.patch(f"/Users/{uid}", {"op": "explode", "path": "active", "value": True})
    assert bad.status_code == 400


@BOTH_LANES
def test_group_members_must_exist_in_the_tenant(app: App, oidc: OidcServer) -> None:
    _, scim_a = _setup(app, oidc)
    _, scim_b = _setup(app, oidc)
    foreign = scim_b.user("eve@b.example", "eve")
    response = scim_a.post(
        "/Groups", {"schemas": [GROUP], "displayName": "g", "members": [{"value": foreign["id"]}]}
    )
    assert response.status_code == 404


@BOTH_LANES
def test_deactivation_ends_every_session_within_one_second(app: App, oidc: OidcServer) -> None:
    t, scim = _setup(app, oidc)
    user = scim.user("alice@example.com", "alice")
    laptop = app.client
    phone = TestClient(app.client.app, base_url="https://testserver")
    assert sign_in(laptop, t.slug, "alice").status_code == 303
    assert sign_in(phone, t.slug, "alice").status_code == 303
    assert me(laptop)["user_id"] == user["id"], "SCIM externalId is the IdP subject"
    started = time.monotonic()
    r = scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": False})
    assert r.status_code == 200
    assert laptop.get("/auth/me").status_code == 401
    assert phone.get("/auth/me").status_code == 401
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"sessions still usable {elapsed:.3f}s after deprovisioning"
    assert (
        sign_in(
            TestClient(app.client.app, base_url="https://testserver"), t.slug, "alice"
        ).status_code
        == 401
    )


def test_deletion_ends_sessions_and_removes_the_user_from_scim(app: App, oidc: OidcServer) -> None:
    t, scim = _setup(app, oidc)
    user = scim.user("alice@example.com", "alice")
    assert sign_in(app.client, t.slug, "alice").status_code == 303
    started = time.monotonic()
    assert scim.delete(f"/Users/{user['id']}").status_code == 204
    assert app.client.get("/auth/me").status_code == 401
    assert time.monotonic() - started < 1.0
    assert scim.get(f"/Users/{user['id']}").status_code == 404
    assert scim.delete(f"/Users/{user['id']}").status_code == 404
    again = scim.user("alice@example.com", "alice")
    assert again["id"] == user["id"]
    assert again["active"] is True


@BOTH_LANES
def test_group_changes_change_roles_at_the_next_request(app: App, oidc: OidcServer) -> None:
    t, scim = _setup(app, oidc)
    user = scim.user("nina@example.com", "nina")
    assert sign_in(app.client, t.slug, "nina", amr=["pwd"]).status_code == 303
    assert me(app.client)["roles"] == []
    group = scim.post(
        "/Groups", {"schemas": [GROUP], "displayName": "cc-sup", "members": [{"value": user["id"]}]}
    )
    assert sorted(me(app.client)["roles"]) == ["agent", "supervisor"]
    scim.patch(
        f"/Groups/{group.json()['id']}",
        {"op": "remove", "path": f'members[value eq "{user["id"]}"]'},
    )
    assert me(app.client)["roles"] == []


def test_scim_provisioning_mode_refuses_unprovisioned_logins(app: App, oidc: OidcServer) -> None:
    t, scim = _setup(app, oidc, provisioning="scim")
    refused = sign_in(app.client, t.slug, "alice")
    assert refused.status_code == 401
    assert refused.json()["reason"] == "not-provisioned"
    assert app.client.cookies.get(COOKIE_NAME) is None
    scim.user("alice@example.com", "alice")
    assert sign_in(app.client, t.slug, "alice").status_code == 303


@pytest.mark.parametrize("path", ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"])
def test_discovery_endpoints_answer(path: str, app: App) -> None:
    response = app.client.get(f"/scim/v2{path}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/scim+json")


def test_equality_lookups_by_name_external_id_and_id(app: App, oidc: OidcServer) -> None:
    _, scim = _setup(app, oidc)
    quoted = scim.user('o"brien', "ext-1")
    scim.user("other", "ext-2")
    found = scim.get("/Users", filter='userName eq "O\\"BRIEN"').json()
    assert [r["id"] for r in found["Resources"]] == [quoted["id"]]
    assert scim.get("/Users", filter='externalId eq "EXT-1"').json()["totalResults"] == 0
    assert scim.get("/Users", filter=f'id eq "{quoted["id"]}"').json()["totalResults"] == 1
    scim.delete(f"/Users/{quoted['id']}")
    assert scim.get("/Users", filter='userName eq "o\\"brien"').json()["totalResults"] == 0
