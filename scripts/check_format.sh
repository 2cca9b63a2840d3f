#!/usr/bin/env bash
# scripts/check_format.sh: fails, naming the files, when any tracked C or C++ file differs from what
# clang-format makes of it with the repository's .clang-format. `scripts/check_format.sh --fix`
# rewrites them instead. Run by `scripts/dev test` (and so by CI) before anything is built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

format=${CLANG_FORMAT:-clang-format}
command -v "$format" >/dev/null || { echo "check_format: $format is not installed" >&2; exit 2; }
mapfile -t files < <(git ls-files -- '*.c' '*.cc' '*.h' '*.hpp' '*.cpp')
[ ${#files[@]} -gt 0 ] || { echo "check_format: no C/C++ files found" >&2; exit 2; }

if [ "${1:-}" = --fix ]; then
  "$format" -i -- "${files[@]}"
  exit 0
fi

# One clang-format for every file; each difference is reported as "FILE:LINE:COL: error: ...".
mapfile -t bad < <("$format" --dry-run --Werror -- "${files[@]}" 2>&1 |
  sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u)
if [ ${#bad[@]} -gt 0 ]; then
  printf 'check_format: %d file(s) not formatted with %s:\n' "${#bad[@]}" "$("$format" --version)" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix with: scripts/check_format.sh --fix" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
