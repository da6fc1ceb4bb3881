"""Every URL pattern the project serves, found by walking the root resolver (the DRF router's
routes and the admin site included), so a route added anywhere shows up in the matrix."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the full pattern for an unnamed route
    pattern: str
    kwargs: tuple[str, ...]

    @property
    def key(self) -> str:
        """How the matrix refers to the route; DRF's `.json` variants share their route's entry."""
        return self.name

    @property
    def has_format_suffix(self) -> bool:
        return "format" in self.kwargs

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")


def _pattern_kwargs(pattern) -> tuple[str, ...]:
    return tuple(pattern.regex.groupindex)


def _walk(patterns, prefix: str, namespace: str | None, inherited: tuple[str, ...]):
    for entry in patterns:
        text = prefix + str(entry.pattern)
        kwargs = inherited + _pattern_kwargs(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, text, inner, kwargs)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield Route(name=name or text, pattern=text, kwargs=kwargs)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", None, ()))
