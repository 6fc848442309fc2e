#!/usr/bin/env bash
# Updates the library's declared public API (Stack/PublicAPI.Unshipped.txt) after a deliberate change: builds Stack,
# adds every member the analyzer reports as public but undeclared (RS0016) and drops every declared one that is gone or
# changed (RS0017, from both listings). Review the result with `git diff Stack/PublicAPI.*.txt` and commit it with the
# change. Without a deliberate change there is nothing to do: the build passes.
set -euo pipefail
cd "$(dirname "$0")/../Stack"
out=$(dotnet build -c Release --no-incremental -nologo -v q 2>&1 || true)
added=$(grep -oP "error RS0016: Symbol '\K.*?(?=' is not part of the declared public API)" <<<"$out" | LC_ALL=C sort -u || true)
removed=$(grep -oP "error RS0017: Symbol '\K.*?(?=' is part of the declared API)" <<<"$out" | LC_ALL=C sort -u || true)
other=$(grep -E ": error " <<<"$out" | grep -vE "error RS001[67]" | sort -u || true)
for f in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
  body=$(tail -n +2 "$f")
  [ -n "$removed" ] && body=$(grep -vxF -f <(printf '%s\n' "$removed") <<<"$body" || true)
  [ "$f" = PublicAPI.Unshipped.txt ] && [ -n "$added" ] && body=$(printf '%s\n%s\n' "$body" "$added")
  { echo "#nullable enable"; grep -v '^$' <<<"$body" | LC_ALL=C sort -u || true; } >"$f"
done
echo "public API: $(grep -c . <<<"$added" || true) added, $(grep -c . <<<"$removed" || true) removed"
[ -z "$other" ] || { echo "other build errors:"; echo "$other"; exit 1; }
