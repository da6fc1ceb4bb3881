#!/usr/bin/env bash
# Static security checks for CI; exits non-zero on any new finding.
#   1. bandit over the product code: no HIGH-severity finding (config: [tool.bandit] in pyproject.toml).
#   2. pip-audit of the pinned runtime requirements and of the installed environment (which holds
#      every transitive dependency) against PyPI's vulnerability data. Accepted advisories are
#      listed, each with its reason, in security/pip-audit-waivers.txt. A package that cannot be
#      audited fails the check with PIP_AUDIT_STRICT=1; a vulnerability service that cannot be
#      reached always fails it.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN="${VENV_BIN:-.venv/bin}"
PRODUCT_CODE=(accounts cem finance_projects feedback complaints dashboard digests)
WAIVERS=security/pip-audit-waivers.txt
status=0

echo "=== bandit (fails on HIGH severity) ==="
if ! "$VENV_BIN/bandit" -c pyproject.toml -r "${PRODUCT_CODE[@]}" --severity-level high --quiet; then
  echo "bandit: HIGH-severity findings above; fix them (a '# nosec BXXX' needs a reason next to it)." >&2
  status=1
fi

echo "=== pip-audit ==="
if ! "$VENV_BIN/python" - <<'PY'
import sys
import urllib.request

try:
    with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=20) as answer:
        answer.read(1)
except Exception as exc:  # noqa: BLE001 - any failure means the audit cannot run
    sys.exit(f"pip-audit: cannot reach PyPI's vulnerability API ({exc}); the dependencies were NOT audited.")
PY
then
  exit 2
fi

ignore=()
while read -r id _reason; do
  [[ -z "$id" || "$id" == \#* ]] && continue
  ignore+=(--ignore-vuln "$id")
done < "$WAIVERS"

# A package index that cannot answer for a pinned version (some mirrors serve only the latest
# release's metadata) leaves that package unaudited: pip-audit names each one on stderr. Set
# PIP_AUDIT_STRICT=1 to make that a failure where the full PyPI API is reachable.
strict=()
[ "${PIP_AUDIT_STRICT:-0}" = 1 ] && strict=(--strict)
audit() {
  "$VENV_BIN/pip-audit" "${strict[@]}" --progress-spinner off --vulnerability-service pypi "${ignore[@]}" "$@"
}

echo "--- pinned runtime requirements (requirements.txt) ---"
audit -r requirements.txt --no-deps --disable-pip || status=1
echo "--- installed environment (transitive dependencies included) ---"
audit --skip-editable || status=1

if [ "$status" -ne 0 ]; then
  echo "security checks FAILED" >&2
else
  echo "security checks passed"
fi
exit "$status"
