#!/usr/bin/env bash
# Vendor / verify the offline GraphiQL browser assets embedded by the API crate.
#
# Usage:
#   scripts/vendor-graphiql.sh                 verify (default): re-fetch the exact
#                                              package versions listed in MANIFEST.json
#                                              with `npm pack`, and check every vendored
#                                              file against the manifest sha256 AND
#                                              byte for byte against the fetched package.
#   scripts/vendor-graphiql.sh --update [pkg@version ...]
#                                              re-copy the files from the packages (at the
#                                              manifest versions, or at the versions given
#                                              as arguments, e.g. graphiql@4.1.2) and
#                                              rewrite MANIFEST.json.
#
# Needs: bash, npm (registry access), tar, python3. The vendored files are never
# modified: they are copied verbatim out of the npm tarballs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASSETS="$ROOT/crates/api/assets/graphiql"
MANIFEST="$ASSETS/MANIFEST.json"

# File layout used only to bootstrap MANIFEST.json when it does not exist yet:
# package|version|path inside the package|file name in $ASSETS
BOOTSTRAP_LAYOUT="
graphiql|4.1.2|graphiql.min.js|graphiql.min.js
graphiql|4.1.2|graphiql.min.css|graphiql.min.css
graphiql|4.1.2|LICENSE|LICENSE.graphiql
react|18.3.1|umd/react.production.min.js|react.production.min.js
react|18.3.1|LICENSE|LICENSE.react
react-dom|18.3.1|umd/react-dom.production.min.js|react-dom.production.min.js
react-dom|18.3.1|LICENSE|LICENSE.react-dom
"

die() { echo "vendor-graphiql: ERROR: $*" >&2; exit 1; }

MODE=verify
OVERRIDES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --update) MODE=update ;;
    --verify) MODE=verify ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option: $1" ;;
    *@*) OVERRIDES+=("$1") ;;
    *) die "unexpected argument: $1 (expected --update, --verify or pkg@version)" ;;
  esac
  shift
done
if [ "$MODE" = verify ] && [ ${#OVERRIDES[@]} -gt 0 ]; then
  die "pkg@version arguments are only accepted together with --update"
fi

command -v npm >/dev/null || die "npm not found"
command -v python3 >/dev/null || die "python3 not found"
command -v tar >/dev/null || die "tar not found"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vendor-graphiql.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------
# 1. Work out the entry list (package|version|path|file) for this run.
# ---------------------------------------------------------------------------
if [ -f "$MANIFEST" ]; then
  python3 - "$MANIFEST" > "$WORK/layout" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for f in m["files"]:
    print("|".join([f["package"], f["version"], f["path"], f["file"]]))
PY
elif [ "$MODE" = update ]; then
  echo "vendor-graphiql: no MANIFEST.json yet, bootstrapping from the built-in layout"
  printf '%s\n' "$BOOTSTRAP_LAYOUT" | sed '/^$/d' > "$WORK/layout"
else
  die "missing $MANIFEST (run with --update to create it)"
fi

if [ ${#OVERRIDES[@]} -gt 0 ]; then
  python3 - "$WORK/layout" "${OVERRIDES[@]}" <<'PY'
import sys
path, overrides = sys.argv[1], sys.argv[2:]
want = {}
for o in overrides:
    name, _, ver = o.rpartition("@")
    if not name or not ver:
        sys.exit(f"vendor-graphiql: ERROR: bad override {o!r} (expected pkg@version)")
    want[name] = ver
rows = [l.split("|") for l in open(path).read().split("\n") if l]
known = {r[0] for r in rows}
for name in want:
    if name not in known:
        sys.exit(f"vendor-graphiql: ERROR: {name} is not a vendored package ({', '.join(sorted(known))})")
with open(path, "w") as fh:
    for r in rows:
        if r[0] in want:
            r[1] = want[r[0]]
        fh.write("|".join(r) + "\n")
PY
fi

# ---------------------------------------------------------------------------
# 2. Fetch each package@version once with `npm pack` and extract it.
# ---------------------------------------------------------------------------
mkdir -p "$WORK/tgz" "$WORK/pkg"
: > "$WORK/packs"
for spec in $(cut -d'|' -f1,2 "$WORK/layout" | sort -u | tr '|' '@'); do
  name="${spec%@*}"; ver="${spec##*@}"
  echo "vendor-graphiql: fetching $name@$ver"
  if ! npm pack "$name@$ver" --json --pack-destination "$WORK/tgz" > "$WORK/pack.json" 2> "$WORK/pack.err"; then
    cat "$WORK/pack.err" >&2
    die "npm pack $name@$ver failed"
  fi
  packinfo="$(python3 - "$WORK/pack.json" "$name" "$ver" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))[0]
if d["name"] != sys.argv[2] or d["version"] != sys.argv[3]:
    sys.exit(f"vendor-graphiql: ERROR: npm pack returned {d['name']}@{d['version']}, wanted {sys.argv[2]}@{sys.argv[3]}")
print(d["filename"], d["integrity"])
PY
  )" || die "unexpected npm pack output for $name@$ver"
  read -r tgz integrity <<< "$packinfo"
  mkdir -p "$WORK/pkg/$name"
  tar -xzf "$WORK/tgz/$tgz" -C "$WORK/pkg/$name"
  # npm tarballs put everything under package/
  [ -f "$WORK/pkg/$name/package/package.json" ] || die "$name@$ver: tarball has no package/package.json"
  echo "$name|$ver|$integrity" >> "$WORK/packs"
done

# ---------------------------------------------------------------------------
# 3. Verify or update.
# ---------------------------------------------------------------------------
python3 - "$MODE" "$ASSETS" "$MANIFEST" "$WORK/layout" "$WORK/packs" "$WORK/pkg" <<'PY'
import hashlib, json, os, shutil, sys

mode, assets, manifest_path, layout_path, packs_path, pkgroot = sys.argv[1:]

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

layout = [l.split("|") for l in open(layout_path).read().split("\n") if l]
packs = {}
for l in open(packs_path).read().split("\n"):
    if l:
        name, ver, integrity = l.split("|")
        packs[name] = (ver, integrity)

def pkg_json(name):
    return json.load(open(os.path.join(pkgroot, name, "package", "package.json")))

def spdx(name):
    lic = pkg_json(name).get("license")
    if isinstance(lic, dict):
        lic = lic.get("type")
    return lic or "UNKNOWN"

if mode == "update":
    os.makedirs(assets, exist_ok=True)
    files = []
    for name, ver, path, fname in layout:
        src = os.path.join(pkgroot, name, "package", path)
        if not os.path.isfile(src):
            sys.exit(f"vendor-graphiql: ERROR: {name}@{ver} has no file {path}")
        dst = os.path.join(assets, fname)
        shutil.copyfile(src, dst)
        files.append({
            "file": fname,
            "package": name,
            "version": ver,
            "path": path,
            "sha256": sha256(dst),
            "size": os.path.getsize(dst),
            "license": spdx(name),
        })
        print(f"vendor-graphiql: copied {name}@{ver}/{path} -> {fname}")
    manifest = {
        "comment": "Unmodified npm files vendored for the offline GraphiQL page. "
                   "Generated by scripts/vendor-graphiql.sh --update; verify with scripts/vendor-graphiql.sh.",
        "packages": [
            {"package": n, "version": v, "integrity": i, "license": spdx(n)}
            for n, (v, i) in sorted(packs.items())
        ],
        "files": files,
    }
    with open(manifest_path, "w") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")
    print(f"vendor-graphiql: wrote {manifest_path} ({len(files)} files)")
    sys.exit(0)

# verify
manifest = json.load(open(manifest_path))
errors = []
for p in manifest.get("packages", []):
    got = packs.get(p["package"])
    if got is None:
        errors.append(f"{p['package']}: listed in packages but no file uses it")
    elif got[0] != p["version"]:
        errors.append(f"{p['package']}: packages[] says {p['version']} but files[] use {got[0]}")
    elif p.get("integrity") and got[1] != p["integrity"]:
        errors.append(f"{p['package']}@{p['version']}: registry tarball integrity {got[1]} "
                      f"!= manifest {p['integrity']}")
for f in manifest["files"]:
    name, ver, path, fname = f["package"], f["version"], f["path"], f["file"]
    vend = os.path.join(assets, fname)
    fresh = os.path.join(pkgroot, name, "package", path)
    tag = f"{fname} ({name}@{ver}/{path})"
    if not os.path.isfile(vend):
        errors.append(f"{tag}: vendored file is missing")
        continue
    actual = sha256(vend)
    if actual != f["sha256"]:
        errors.append(f"{tag}: sha256 {actual} does not match manifest {f['sha256']}")
    if "size" in f and os.path.getsize(vend) != f["size"]:
        errors.append(f"{tag}: size {os.path.getsize(vend)} does not match manifest {f['size']}")
    if not os.path.isfile(fresh):
        errors.append(f"{tag}: the freshly fetched package has no {path}")
    else:
        with open(vend, "rb") as a, open(fresh, "rb") as b:
            if a.read() != b.read():
                errors.append(f"{tag}: differs from the file in the freshly fetched npm package")
    lic = spdx(name)
    if f.get("license") != lic:
        errors.append(f"{tag}: manifest license {f.get('license')!r} but package.json says {lic!r}")
    print(f"vendor-graphiql: checked {fname}")

if errors:
    print("vendor-graphiql: VERIFY FAILED:", file=sys.stderr)
    for e in errors:
        print(f"  - {e}", file=sys.stderr)
    print("vendor-graphiql: re-run with --update to re-vendor (then review the diff)", file=sys.stderr)
    sys.exit(1)
print(f"vendor-graphiql: OK, {len(manifest['files'])} files match MANIFEST.json and the npm packages")
PY
