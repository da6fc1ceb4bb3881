"""List filters that refuse what they do not understand.

A misspelt or unsupported query parameter (`?is_open=true`, `?status=open`, `?ordering=colour`)
used to be ignored, so the caller got the whole list and took it for the filtered one. Each is
now a 400 naming the parameter and what the list accepts.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import F
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.settings import api_settings

# Understood by every list, whatever its filters: paging and the renderer choice.
ALWAYS_ACCEPTED = {"page", "page_size", api_settings.URL_FORMAT_OVERRIDE}


def _accepted_parameters(backend, request, queryset, view) -> set[str]:
    accepted = set(ALWAYS_ACCEPTED)
    filterset_class = backend.get_filterset_class(view, queryset)
    if filterset_class is not None:
        for name, filter_ in filterset_class.base_filters.items():
            # A range filter reads two parameters, named by its widget's suffixes.
            widget = filter_.extra.get("widget") or filter_.field_class.widget
            suffixes = getattr(widget, "suffixes", None) or [""]
            accepted.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes)
    for other in getattr(view, "filter_backends", None) or api_settings.DEFAULT_FILTER_BACKENDS:
        other = other if isinstance(other, type) else type(other)
        if issubclass(other, OrderingFilter):
            accepted.add(other.ordering_param)
        elif issubclass(other, SearchFilter) and getattr(view, "search_fields", None):
            accepted.add(other.search_param)
    return accepted


def refuse_unknown_parameters(request, accepted: set[str]) -> None:
    """A 400 naming every query parameter outside `accepted` (paging is always accepted) and
    what the list accepts."""
    accepted = accepted | ALWAYS_ACCEPTED
    unknown = sorted(set(request.query_params) - accepted)
    if unknown:
        known = ", ".join(sorted(accepted - ALWAYS_ACCEPTED)) or "-"
        message = _("Unknown filter. This list accepts: %(names)s.") % {"names": known}
        raise ValidationError({name: [message] for name in unknown})


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, answering 400 to a query parameter the list does not know. A
    known one left empty (`?kind=`, what a form's blank choice sends) filters nothing, for every
    filter alike."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        data = kwargs["data"].copy()
        for name in list(data):
            values = [value for value in data.getlist(name) if value != ""]
            if values:
                data.setlist(name, values)
            else:
                del data[name]
        kwargs["data"] = data
        return kwargs

    def filter_queryset(self, request, queryset, view):
        refuse_unknown_parameters(request, _accepted_parameters(self, request, queryset, view))
        return super().filter_queryset(request, queryset, view)


def _may_be_empty(model, path: str) -> bool:
    """Whether the field at `path` (`a__b`) can be NULL, through a nullable relation too."""
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # an annotation: its own ordering rules
            return False
        if getattr(field, "null", False):
            return True
        model = field.related_model or model
    return False


def _holds_many(model, path: str) -> bool:
    """Whether the field at `path` (`a__b`) reaches many rows: a reverse foreign key or a
    many-to-many, on the way or at the end."""
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        if field.many_to_many or field.one_to_many:
            return True
        model = field.related_model or model
    return False


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` that answers 400 to a field the list cannot be sorted by, and lists empty
    values last in either direction on every database (PostgreSQL puts them first when
    descending, SQLite first when ascending)."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        return queryset.order_by(*(self._empty_last(queryset.model, term) for term in ordering))

    @staticmethod
    def _empty_last(model, term):
        # Only nullable fields: NULLS LAST on a NOT NULL column would keep PostgreSQL from
        # reading a descending order off its index.
        if not isinstance(term, str) or not _may_be_empty(model, term.lstrip("-")):
            return term
        if term.startswith("-"):
            return F(term[1:]).desc(nulls_last=True)
        return F(term).asc(nulls_last=True)

    def get_default_valid_fields(self, queryset, view, context=None):
        # A list that names no `ordering_fields` sorts by its serializer's fields, but not by a
        # relation holding many rows (a survey's questions): that repeats a row once per related
        # row and pages through the copies.
        model = queryset.model
        return [
            (name, label)
            for name, label in super().get_default_valid_fields(queryset, view, context or {})
            if not _holds_many(model, name)
        ]

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        if len(valid) != len([term for term in fields if term]):
            allowed = ", ".join(
                name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
            )
            raise ValidationError(
                {self.ordering_param: [_("Cannot sort by that. Sort by: %(names)s.") % {"names": allowed}]}
            )
        return valid


class RankedOrderingFilter(StrictOrderingFilter):
    """`StrictOrderingFilter` whose names may be read through another value (`ordered_by`:
    severity by its rank, not alphabetically), with `tie_breakers` after the asked order: many
    rows share a severity, and ties in any order would repeat or skip rows between pages."""

    ordered_by: dict[str, str] = {}
    tie_breakers: tuple[str, ...] = ()

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        terms = [
            ("-" if term.startswith("-") else "") + self.ordered_by.get(term.lstrip("-"), term.lstrip("-"))
            for term in ordering
        ]
        named = {term.lstrip("-") for term in terms}
        return terms + [term for term in self.tie_breakers if term.lstrip("-") not in named]
