#!/usr/bin/env python3
"""Checks the claims the manifests make, from `cargo metadata`:

- every workspace crate's `rust-version` is at least the highest `rust-version`
  among its normal dependencies (transitively, with the workspace's feature
  unification, so it is conservative);
- the example's domain crate depends on no database driver, no sqlx and no
  async runtime (DESIGN: the domain depends on uow-core only).

Exits non-zero with a line per broken claim.
"""
import json
import subprocess
import sys

FORBIDDEN_IN_DOMAIN = ("sqlx", "tokio", "libsqlite3-sys", "mysql", "postgres", "async-std", "uow-sqlx")
DOMAIN_CRATES = ("allocation-domain",)

meta = json.loads(subprocess.check_output(["cargo", "metadata", "--format-version", "1", "--locked"]))
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}


def normal_deps(root):
    seen, stack = set(), [root]
    while stack:
        for dep in nodes[stack.pop()]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]) and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                stack.append(dep["pkg"])
    return seen


def version(text):
    parts = [int(part) for part in text.split(".")] if text else [0]
    return tuple(parts + [0] * (3 - len(parts)))


failures = []
for member in meta["workspace_members"]:
    package = packages[member]
    declared = package.get("rust_version")
    deps = normal_deps(member)
    need, by = max(((version(packages[d].get("rust_version")), packages[d]["name"]) for d in deps), default=((0, 0, 0), "-"))
    if declared is None or version(declared) < need:
        failures.append(f"{package['name']}: rust-version {declared} but {by} needs {'.'.join(map(str, need))}")
    else:
        print(f"{package['name']}: rust-version {declared} (highest dependency: {by} {'.'.join(map(str, need))})")
    if package["name"] in DOMAIN_CRATES:
        bad = sorted({packages[d]["name"] for d in deps if packages[d]["name"].startswith(FORBIDDEN_IN_DOMAIN)})
        if bad:
            failures.append(f"{package['name']} (a domain crate) depends on {', '.join(bad)}")
        else:
            print(f"{package['name']}: no database driver, sqlx or async runtime among its dependencies")

for failure in failures:
    print("error:", failure, file=sys.stderr)
sys.exit(1 if failures else 0)
