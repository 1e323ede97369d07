#!/usr/bin/env bash
# The project's documents point only at files the project has: every
# `docs/NAME.md` or `NAME.md` that README.md and docs/*.md name exists, and
# none sends the reader outside the repository (../shared/ is the team's
# folder, not part of a clone).
source "$(dirname "$0")/lib.bash"
cd "$NNC_SOURCE_DIR" || exit 1

[ -f docs/design.md ] || fail "docs/design.md (the architecture) is missing"
grep -q 'docs/design.md' README.md || fail "README.md does not point to docs/design.md"
for f in README.md docs/*.md; do
  if grep -n '\.\./shared' "$f"; then
    fail "$f points outside the repository (../shared)"
  fi
  dir=$(dirname "$f")
  for ref in $(grep -o '`[A-Za-z0-9_./-]*\.md`' "$f" | tr -d '`' | sort -u); do
    if [ -f "$ref" ] || [ -f "$dir/$ref" ] || [ -f "docs/$ref" ]; then
      echo "ok: $f names $ref"
    else
      fail "$f names $ref, which does not exist"
    fi
  done
done
finish
