#!/usr/bin/env bash
# Runs the `# RUN:` lines of one golden test file, lit style:
#   %s   the test file        %S  its directory      %t  a scratch path
#   %nnc the nnc binary       FileCheck  LLVM's FileCheck
#   not  inverts an exit status (as LLVM's `not`: fails on 0 and on crashes)
# A RUN line ending in `\` continues on the next RUN line.
# `# REQUIRES: cpu-backend` (or cuda-backend) skips the test (exit 77) when
# the build lacks that backend; NNC_FEATURES lists what it has.
set -u
file=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
: "${NNC:?NNC must name the nnc binary}"
: "${FILECHECK:=FileCheck}"
dir=$(cd "$(dirname "$file")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

not() {
  "$@"
  local rc=$?
  # A crash (signal) is never the expected failure.
  [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ]
}
export -f not

for need in $(sed -n 's/^[[:space:]]*\(#\|\/\/\)[[:space:]]*REQUIRES:[[:space:]]*//p' "$file"); do
  if [[ " ${NNC_FEATURES:-} " != *" $need "* ]]; then
    echo "SKIP: $file needs $need (this build has: ${NNC_FEATURES:-nothing})"
    exit 77
  fi
done

cmds=()
cur=""
while IFS= read -r line; do
  [[ $line =~ ^[[:space:]]*(#|//)[[:space:]]*RUN:[[:space:]]?(.*)$ ]] || continue
  part=${BASH_REMATCH[2]}
  if [[ $part == *'\' ]]; then
    cur+="${part%\\} "
    continue
  fi
  cmds+=("$cur$part")
  cur=""
done <"$file"

if [ ${#cmds[@]} -eq 0 ]; then
  echo "$file: error: no RUN lines" >&2
  exit 1
fi

i=0
for c in "${cmds[@]}"; do
  i=$((i + 1))
  c=${c//%nnc/$NNC}
  c=${c//%s/$file}
  c=${c//%S/$dir}
  c=${c//%t/$tmp/t$i}
  c=${c//FileCheck/$FILECHECK}
  echo "RUN[$i]: $c"
  (cd "$dir" && bash -o pipefail -c "$c") || { echo "FAILED: RUN line $i of $file"; exit 1; }
done
