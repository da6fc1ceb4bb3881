"""`/api/v1/imports/`: upload a CSV/XLSX of clients, contacts, projects or commitments; follow the job.

`POST` (multipart: `kind`, `file`, `import_valid_rows`) answers 201 with the finished job for a
small file, or 202 with the queued job for a large one; `GET imports/<id>/` reports progress and
every row error, written in the uploader's language. A file with no data rows is rejected. Jobs
are private to whoever uploaded them (admins see all): others get 404.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ..imports import MAX_UPLOAD_BYTES, import_job_create, import_jobs_for
from ..models import ImportJob, ImportKind
from ..tasks_import import import_job_start


class ImportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    error_count = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "filename",
            "import_valid_rows",
            "total",
            "processed",
            "percent",
            "imported",
            "error_count",
            "errors",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_error_count(self, job) -> int:
        return len(job.errors)


class ImportJobListSerializer(ImportJobSerializer):
    class Meta(ImportJobSerializer.Meta):
        fields = [name for name in ImportJobSerializer.Meta.fields if name != "errors"]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField(max_length=255)
    import_valid_rows = serializers.BooleanField(
        default=False, help_text=_("Import the good rows and skip the bad ones (default: all or nothing).")
    )

    def validate_file(self, file):
        if file.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(_("The file is larger than 25 MB."))
        return file


class ImportJobViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return import_jobs_for(self.request.user).defer("source")

    def get_serializer_class(self):
        if self.action == "create":
            return ImportUploadSerializer
        return ImportJobListSerializer if self.action == "list" else ImportJobSerializer

    @extend_schema(
        request=ImportUploadSerializer,
        responses={201: ImportJobSerializer, 202: ImportJobSerializer},
        summary=_("Upload a file to import; small files finish at once (201), large ones are queued (202)"),
    )
    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        try:
            job = import_job_create(
                kind=upload.validated_data["kind"],
                filename=file.name,
                content=file.read(),
                created_by=request.user,
                language=request.LANGUAGE_CODE,
                import_valid_rows=upload.validated_data["import_valid_rows"],
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        job = import_job_start(job)
        answer = status.HTTP_201_CREATED if job.is_finished else status.HTTP_202_ACCEPTED
        return Response(ImportJobSerializer(job, context={"request": request}).data, status=answer)


ROUTES = [("imports", ImportJobViewSet, "import")]
URLPATTERNS = []
