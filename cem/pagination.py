from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (1 to 500), answering count/next/previous/results. A page size
    that is not one is a 400 naming it, as an unknown filter is, rather than quietly 50 rows."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        fits = asked.isascii() and asked.isdigit() and len(asked) <= len(str(self.max_page_size))
        if not (fits and 1 <= int(asked) <= self.max_page_size):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Choose a page size from 1 to %(most)d.") % {"most": self.max_page_size}
                    ]
                }
            )
        return int(asked)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters
