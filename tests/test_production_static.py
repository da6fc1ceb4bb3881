"""Production serves hashed static files from a manifest; one unresolvable reference (a source
map a vendored file points to, say) makes collectstatic fail and every page answer 500."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_collectstatic_builds_the_production_manifest(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "REDIS_URL")
    }
    env.update(DJANGO_ENV="production", SECRET_KEY="x" * 60, STATIC_ROOT=str(tmp_path / "static"))

    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "css/app.css" in manifest
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in manifest
