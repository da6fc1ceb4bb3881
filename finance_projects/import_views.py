"""The bulk-import pages: upload a file, watch the progress bar, read every row error."""

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from cem.spreadsheets import csv_row

from .imports import COLUMNS, MAX_UPLOAD_BYTES, can_import, import_job_create, import_jobs_for, template_csv
from .models import ImportKind
from .tasks_import import import_job_start

ERRORS_SHOWN = 500


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(label=gettext_lazy("CSV or Excel (.xlsx) file"))
    import_valid_rows = forms.BooleanField(
        label=gettext_lazy("Import the good rows and skip the bad ones"),
        help_text=gettext_lazy("Otherwise nothing is imported while any row has a problem."),
        required=False,
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 25 MB."))
        return file


def _require_importer(user) -> None:
    if not can_import(user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    _require_importer(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, initial={"kind": request.GET.get("kind")})
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            job = import_job_create(
                kind=form.cleaned_data["kind"],
                filename=file.name,
                content=file.read(),
                created_by=request.user,
                language=request.LANGUAGE_CODE,
                import_valid_rows=form.cleaned_data["import_valid_rows"],
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, messages)
        else:
            job = import_job_start(job)
            return redirect("import-detail", pk=job.pk)
    jobs = import_jobs_for(request.user).defer("source", "errors")[:10]
    columns = [(kind, label, COLUMNS[kind]) for kind, label in ImportKind.choices]
    return render(
        request, "finance_projects/import_form.html", {"form": form, "jobs": jobs, "columns": columns}
    )


def _job_for(request, pk):
    return get_object_or_404(import_jobs_for(request.user).defer("source"), pk=pk)


@login_required
@require_GET
def import_detail(request, pk):
    job = _job_for(request, pk)
    template = (
        "finance_projects/import_progress.html" if request.htmx else "finance_projects/import_detail.html"
    )
    return render(
        request,
        template,
        {
            "job": job,
            "errors": job.errors[:ERRORS_SHOWN],
            "more_errors": max(len(job.errors) - ERRORS_SHOWN, 0),
        },
    )


@login_required
@require_GET
def import_errors_csv(request, pk):
    job = _job_for(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    response.write("\ufeff")  # so Excel opens UTF-8 (Chinese text) correctly
    writer = csv.writer(response)
    writer.writerow([_("Line"), _("Column"), _("Problem")])
    writer.writerows(csv_row([entry["line"], entry["column"], entry["message"]]) for entry in job.errors)
    return response


@login_required
@require_GET
def import_template(request, kind):
    _require_importer(request.user)
    if kind not in ImportKind.values:
        raise Http404
    response = HttpResponse(template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
