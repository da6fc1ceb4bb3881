"""Views around signing in: the lock-out page and the API docs page's security policy."""

import base64
import hashlib
import re
from functools import cache

from axes.helpers import get_cool_off, get_failure_limit
from csp.decorators import csp_update
from django.shortcuts import render
from django.template.loader import get_template
from drf_spectacular.views import SpectacularSwaggerSplitView


def lockout(request, original_response=None, credentials=None):
    """What a locked-out login sees (django-axes' `AXES_LOCKOUT_CALLABLE`): HTTP 429."""
    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else 0
    context = {"failure_limit": get_failure_limit(request, credentials), "cooloff_minutes": minutes}
    return render(request, "registration/lockout.html", context, status=429)


@cache
def _swagger_style_hashes() -> list[str]:
    """CSP hashes of the inline <style> blocks in drf-spectacular's Swagger UI page."""
    source = get_template("drf_spectacular/swagger_ui.html").template.source
    blocks = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'" for block in blocks
    ]


_swagger_view = SpectacularSwaggerSplitView.as_view(url_name="api-schema")


def api_docs(request, *args, **kwargs):
    """Swagger UI under the site's strict policy: its start-up script is served as a file (the
    split view), and its one inline <style> is allowed by hash, for this page only."""
    return csp_update({"style-src": _swagger_style_hashes()})(_swagger_view)(request, *args, **kwargs)
