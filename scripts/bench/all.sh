#!/usr/bin/env bash
# npm run bench: every bench in turn, each to its end even when one before it missed a goal; exits 1 when any of
# them did (each prints which goal and by how much), so a regression shows without hiding the others' figures.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
failed=()
for bench in activation seal sync store guard compare/compare; do
  node "scripts/bench/$bench.ts" || failed+=("$bench")
done
if ((${#failed[@]} > 0)); then
  echo "bench: failed (a goal missed or an error): ${failed[*]}" >&2
  exit 1
fi
