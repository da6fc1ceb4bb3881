"""Template context for every page rendered with a request (`cem/settings.py` TEMPLATES)."""

from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse

from finance_projects.imports import can_import

READ_METHODS = ("GET", "HEAD")


def navigation(request: HttpRequest) -> dict:
    """What the navigation offers beyond the role checks it makes itself: the bulk import."""
    user = getattr(request, "user", None)
    return {"may_import": user is not None and can_import(user)}


def language_next(request: HttpRequest) -> dict:
    """`lang_next`: the page the language switch of `base.html` comes back to (its `next`).

    The page itself for a GET. A page rendered from a POST (a form sent back with its error) may
    sit at a URL that only takes POSTs (`/projects/13/follow_up/`): switching the language there
    would come back to a blank 405. Then it is, in order: what the view set (`request.lang_next`,
    or `lang_next` in its template context, which wins over this), the same URL when its view
    answers GET too (the login page, a client's link), else the nearest page above it that does
    (`/projects/13/`), else the dashboard home. Never the Referer."""
    if request.method in READ_METHODS:
        return {"lang_next": request.get_full_path()}
    chosen = getattr(request, "lang_next", "")
    return {"lang_next": chosen or _nearest_page(request)}


def _nearest_page(request: HttpRequest) -> str:
    path = request.path_info
    prefix = request.path[: len(request.path) - len(path)] if request.path.endswith(path) else ""
    if _answers_get(path):
        return request.get_full_path()
    parts = [part for part in path.split("/") if part]
    for end in range(len(parts) - 1, -1, -1):
        parent = "/" + "".join(f"{part}/" for part in parts[:end])
        if _answers_get(parent):
            return prefix + parent
    return reverse("dashboard:home")


def _answers_get(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return _allows_get(match.func)


def _allows_get(view) -> bool:
    """Whether a view takes GET: a class-based view by its `http_method_names` and handlers, a
    function by the `require_http_methods` (`require_POST`, `require_GET`...) it is wrapped in,
    looked for through every decorator that keeps `__wrapped__`; a view with neither takes any."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return "get" in getattr(view_class, "http_method_names", ()) and hasattr(view_class, "get")
    seen = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        methods = _closure(view).get("request_method_list")
        if methods is not None:
            return "GET" in methods
        view = getattr(view, "__wrapped__", None)
    return True


def _closure(function) -> dict:
    """The variables a function closes over (`require_http_methods` keeps its methods there)."""
    code, cells = getattr(function, "__code__", None), getattr(function, "__closure__", None)
    if code is None or not cells:
        return {}
    values = {}
    for name, cell in zip(code.co_freevars, cells, strict=False):
        try:
            values[name] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    return values
