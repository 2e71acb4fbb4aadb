"""Access decisions per second, latency and revocation, against pycasbin on the same model.

Model: one tenant, N users (one supervisor per team, the rest agents spread
over the teams), T teams with two queues each, I interactions each handled
by an agent of the queue's team. Rule: an agent reads what they handled, a
supervisor reads their team's interactions (need-to-know by relation).

pycasbin gets the same facts as an RBAC-with-domains model (domain = the
tenant) with a second grouping for objects: ``g2(interaction, handler:<agent>)``
and ``g2(interaction, team:<id>)``; one policy line per agent and per team.

Run:  .venv/bin/python benchmarks/access.py            (10k users, 1k teams, 100k calls)
      .venv/bin/python benchmarks/access.py --full     (1,000,000 interactions)
Needs: pip install -r benchmarks/access/requirements.txt   (pycasbin)
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rempart.access import (
    Allow,
    InteractionResource,
    ObjectType,
    Permission,
    Principal,
    Relation,
    RelationKind,
    TenantAccess,
    decide,
    default_catalog,
)
from rempart.types import TenantId

TENANT = TenantId("bench-tenant")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
READ = Permission.INTERACTION_READ

CASBIN_MODEL = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _
g2 = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && g2(r.obj, p.obj, r.dom) && r.act == p.act
"""


def build_world(
    users: int, teams: int, interactions: int, seed: int
) -> tuple[TenantAccess, list[InteractionResource], dict[str, str], list[list[str]]]:
    rng = random.Random(seed)
    state = TenantAccess(TENANT, default_catalog())
    supervisor_of: dict[str, str] = {}
    members: list[list[str]] = [[] for _ in range(teams)]
    for t in range(teams):
        sup = f"sup{t}"
        state.set_user(sup)
        state.assign_role(sup, "supervisor")
        state.add_relation(Relation(sup, RelationKind.SUPERVISES, ObjectType.TEAM, f"team{t}"))
        supervisor_of[f"team{t}"] = sup
    for u in range(users - teams):
        agent = f"agent{u}"
        t = u % teams
        state.set_user(agent)
        state.assign_role(agent, "agent")
        state.add_relation(Relation(agent, RelationKind.MEMBER, ObjectType.TEAM, f"team{t}"))
        members[t].append(agent)
    calls = []
    for i in range(interactions):
        t = rng.randrange(teams)
        calls.append(
            InteractionResource(
                TENANT,
                f"i{i}",
                NOW - timedelta(minutes=rng.randrange(60 * 24 * 25)),
                f"q{t}-{i % 2}",
                f"team{t}",
                rng.choice(members[t]),
            )
        )
    return state, calls, supervisor_of, members


def workload(
    calls: list[InteractionResource],
    supervisor_of: dict[str, str],
    users: list[str],
    n: int,
    seed: int,
) -> list[tuple[str, InteractionResource]]:
    """A third handlers, a third supervisors (allowed), a third random users (mostly denied)."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        call = calls[rng.randrange(len(calls))]
        if k % 3 == 0:
            user = call.agent_id or ""
        elif k % 3 == 1:
            user = supervisor_of[call.team_id or ""]
        else:
            user = rng.choice(users)
        out.append((user, call))
    return out


def pct(sorted_ns: list[int], p: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(p * len(sorted_ns)))] / 1000.0


def run_rempart(
    state: TenantAccess, work: list[tuple[str, InteractionResource]]
) -> dict[str, float]:
    principals = {u: Principal(TENANT, u) for u, _ in work}
    # Throughput: a tight loop; latency: each decision timed on its own.
    rounds = []
    allowed = 0
    for _ in range(3):
        t0 = time.perf_counter()
        allowed = 0
        for user, call in work:
            if isinstance(decide(state, principals[user], READ, call, now=NOW), Allow):
                allowed += 1
        rounds.append(len(work) / (time.perf_counter() - t0))
    lat: list[int] = []
    clock = time.perf_counter_ns
    for user, call in work:
        t0 = clock()
        decide(state, principals[user], READ, call, now=NOW)
        lat.append(clock() - t0)
    lat.sort()
    return {
        "rate": statistics.median(rounds),
        "p50": pct(lat, 0.50),
        "p99": pct(lat, 0.99),
        "allowed": allowed / len(work),
    }


def revocation_rempart(
    state: TenantAccess, call: InteractionResource, sup: str
) -> tuple[bool, bool, float]:
    who = Principal(TENANT, sup)
    before = isinstance(decide(state, who, READ, call, now=NOW), Allow)
    t0 = time.perf_counter_ns()
    state.remove_relation(sup, RelationKind.SUPERVISES, ObjectType.TEAM, call.team_id or "")
    after = isinstance(decide(state, who, READ, call, now=NOW), Allow)
    return before, after, (time.perf_counter_ns() - t0) / 1000.0


def build_casbin(state: TenantAccess, calls: list[InteractionResource], teams: int) -> object:
    import casbin  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / "model.conf"
        model_path.write_text(CASBIN_MODEL)
        enforcer = casbin.Enforcer(str(model_path))
    # pycasbin's domain role manager installs an equality "pattern" matcher by default,
    # which makes building a domain's links quadratic; plain names need none.
    enforcer.add_named_matching_func("g", None)
    enforcer.add_named_matching_func("g2", None)
    dom = str(TENANT)
    policies = [[f"role:sup:team{t}", dom, f"team:team{t}", "read"] for t in range(teams)]
    groups = []
    for user in state.users():
        if user.startswith("agent"):
            policies.append([user, dom, f"handler:{user}", "read"])
        else:
            groups.append([user, f"role:sup:{user.replace('sup', 'team')}", dom])
    objects = []
    for c in calls:
        objects.append([c.interaction_id, f"handler:{c.agent_id}", dom])
        objects.append([c.interaction_id, f"team:{c.team_id}", dom])
    enforcer.add_policies(policies)
    enforcer.add_named_grouping_policies("g", groups)
    enforcer.add_named_grouping_policies("g2", objects)
    return enforcer


def run_casbin(
    enforcer: object, work: list[tuple[str, InteractionResource]], budget_s: float
) -> dict[str, float]:
    enforce = enforcer.enforce  # type: ignore[attr-defined]
    dom = str(TENANT)
    lat: list[int] = []
    allowed = 0
    clock = time.perf_counter_ns
    deadline = time.perf_counter() + budget_s
    t_start = time.perf_counter()
    for user, call in work:
        t0 = clock()
        if enforce(user, dom, call.interaction_id, "read"):
            allowed += 1
        lat.append(clock() - t0)
        if time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - t_start
    lat.sort()
    return {
        "rate": len(lat) / elapsed,
        "p50": pct(lat, 0.50),
        "p99": pct(lat, 0.99),
        "allowed": allowed / len(lat),
        "n": float(len(lat)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="1,000,000 interactions")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--interactions", type=int, default=None)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument(
        "--casbin-seconds",
        type=float,
        default=20.0,
        help="time budget for pycasbin's decisions (it is much slower)",
    )
    parser.add_argument("--no-casbin", action="store_true")
    args = parser.parse_args(argv)
    interactions = args.interactions or (1_000_000 if args.full else 100_000)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, "
        f"Python {sys.version.split()[0]}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"model: {args.users} users, {args.teams} teams, {interactions} interactions, "
        f"{args.decisions} decisions"
    )
    t0 = time.perf_counter()
    state, calls, supervisor_of, _ = build_world(args.users, args.teams, interactions, 1)
    print(f"rempart: world built in {time.perf_counter() - t0:.1f} s")
    work = workload(calls, supervisor_of, state.users(), args.decisions, 2)
    gc.collect()
    gc.freeze()
    ours = run_rempart(state, work)
    print(
        f"rempart: {ours['rate']:,.0f} decisions/s, p50 {ours['p50']:.2f} us, "
        f"p99 {ours['p99']:.2f} us, allowed {ours['allowed']:.0%}"
    )
    target = next(c for c in calls if c.team_id)
    sup = supervisor_of[target.team_id or ""]
    before, after, us = revocation_rempart(state, target, sup)
    print(
        f"rempart: revocation visible to the next decision: {before and not after} "
        f"(allowed before {before}, after {after}; revoke + next decision {us:.1f} us)"
    )
    ok = ours["rate"] >= 50_000 and ours["p99"] < 1000 and before and not after
    if args.no_casbin:
        return 0 if ok else 1
    if importlib.util.find_spec("casbin") is None:
        print("pycasbin not installed: pip install -r benchmarks/access/requirements.txt")
        return 0 if ok else 1
    t0 = time.perf_counter()
    enforcer = build_casbin(state, calls, args.teams)
    # The first decision builds the role links of the domain: part of loading, not timed.
    enforcer.enforce(work[0][0], str(TENANT), work[0][1].interaction_id, "read")  # type: ignore[attr-defined]
    print(
        f"pycasbin: model loaded (policies added, role links built) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    theirs = run_casbin(enforcer, work, args.casbin_seconds)
    print(
        f"pycasbin: {theirs['rate']:,.0f} decisions/s, p50 {theirs['p50']:.2f} us, "
        f"p99 {theirs['p99']:.2f} us, allowed {theirs['allowed']:.0%} "
        f"(over the first {int(theirs['n'])} decisions of the same workload)"
    )
    # Same answers on the decisions both made (the relation still revoked in ours).
    sample = [w for w in work[: int(theirs["n"])] if w[1].team_id != target.team_id][:2000]
    agree = sum(
        isinstance(decide(state, Principal(TENANT, u), READ, c, now=NOW), Allow)
        == bool(enforcer.enforce(u, str(TENANT), c.interaction_id, "read"))  # type: ignore[attr-defined]
        for u, c in sample
    )
    print(f"agreement on {len(sample)} sampled decisions: {agree}/{len(sample)}")
    enforcer.remove_named_grouping_policy("g", sup, f"role:sup:{target.team_id}", str(TENANT))  # type: ignore[attr-defined]
    casbin_after = bool(enforcer.enforce(sup, str(TENANT), target.interaction_id, "read"))  # type: ignore[attr-defined]
    print(f"pycasbin: revocation visible to the next decision: {not casbin_after}")
    print(
        f"ratio (rempart / pycasbin), decisions/s: {ours['rate'] / theirs['rate']:,.0f}x; "
        f"p99 latency: {theirs['p99'] / ours['p99']:,.0f}x lower"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
