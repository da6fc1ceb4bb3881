"""Bulk import of clients, contacts, projects and commitments from a CSV or XLSX file.

Every row is checked before anything is written, and every problem is reported with the line
the user sees in the file (the header is line 1). Then either nothing is imported (the
default, when any row is bad) or, when the user asked for it, only the good rows; the writes
happen in one transaction, in batches, so a 50,000-row file goes in one go. A file with no
data rows is refused. The errors are written in the uploader's language (recorded on the job at
upload), also when a background worker runs the job.

Scope: an importer only creates what they could create by hand. A relationship manager
imports clients and projects they manage themselves and commitments on projects they manage;
a manager imports for the relationship managers of the teams they lead; an admin for anyone.
Commitment owners are whoever `assignable_users_for` allows (teammates and department staff).
Contacts go to the clients the importer may add a contact to by hand (`clients_for`, as the
contacts API), under the same rules as `contact_create`.
"""

import csv
import io
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import openpyxl
import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Department, Role, User
from cem.form_fields import OUT_OF_RANGE, in_range

from .models import (
    AMOUNT_MAX_DIGITS,
    MAX_UPDATE_CADENCE_DAYS,
    Client,
    Commitment,
    CommitmentKind,
    Contact,
    Currency,
    FinancingProject,
    ImportJob,
    ImportKind,
    ImportStatus,
    Language,
    ProjectStatus,
    Stage,
    StageTransition,
)
from .selectors import assignable_users_for, clients_for, portfolio_for

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# Files up to this size are imported during the request; larger ones by a background worker.
INLINE_MAX_BYTES = 200 * 1024
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_ROWS = 100_000
ALLOWED_EXTENSIONS = (".csv", ".xlsx")

COLUMNS: dict[str, dict[str, list[str]]] = {
    ImportKind.CLIENTS: {"required": ["name"], "optional": ["industry", "region", "relationship_manager"]},
    ImportKind.CONTACTS: {
        "required": ["client", "name", "email"],
        "optional": ["title", "phone", "language"],
    },
    ImportKind.PROJECTS: {
        "required": ["code", "name", "client", "amount"],
        "optional": ["currency", "stage", "status", "relationship_manager", "update_cadence_days"],
    },
    ImportKind.COMMITMENTS: {
        "required": ["project", "title", "due_at"],
        "optional": ["kind", "owner", "department", "description"],
    },
}


def template_csv(kind: str) -> str:
    """The header line of a sample file for `kind` (required columns first)."""
    columns = COLUMNS[kind]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(columns["required"] + columns["optional"])
    return buffer.getvalue()


# --- Who may import what ------------------------------------------------------------------


def can_import(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active) and (
        user.is_admin_role or user.role in (Role.MANAGER, Role.RELATIONSHIP_MANAGER)
    )


def import_jobs_for(user: User) -> QuerySet[ImportJob]:
    """Jobs the user may see: their own; an admin sees every job."""
    jobs = ImportJob.objects.select_related("created_by")
    if not user.is_authenticated or not user.is_active:
        return jobs.none()
    return jobs if user.is_admin_role else jobs.filter(created_by=user)


# --- Reading the file ---------------------------------------------------------------------


def read_table(*, content: bytes, filename: str) -> pd.DataFrame:
    """The file as text cells, one row per data line, indexed by the line number in the file."""
    name = filename.lower()
    if name.endswith(".csv"):
        frame = _read_csv(content)
    elif name.endswith(".xlsx"):
        frame = _read_xlsx(content)
    else:
        raise ValidationError({"file": _("Upload a .csv or .xlsx file.")})
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    frame = frame.fillna("").astype(str).apply(lambda column: column.str.strip())
    # Blank lines keep their number but are not rows.
    frame = frame[(frame != "").any(axis=1)]
    if len(frame) > MAX_ROWS:
        raise ValidationError({"file": _("A file may hold at most %(max)d rows.") % {"max": MAX_ROWS}})
    return frame


def _decode(content: bytes) -> str:
    # UTF-8 (with or without the BOM spreadsheet programs add), else GB18030 as Chinese Excel saves.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": _("The file is not UTF-8 or GB18030 text.")})


def _first_lines_of_rows(text: str) -> list[int]:
    """The line on which each data row starts, as the user sees it in the file (the header is
    line 1): a quoted cell may span several lines, so rows and lines are not counted alike. A row
    with more cells than the header names is refused, naming its line: pandas would read the
    first cell of such a row as an index and every value one column off."""
    reader = csv.reader(io.StringIO(text, newline=""))  # "\r\n", "\n" and "\r" all end a line
    columns = len(next(reader, []))
    line = reader.line_num
    starts = []
    for record in reader:
        first_line, line = line + 1, reader.line_num
        if len(record) > columns:
            raise ValidationError(
                {
                    "file": _("Line %(line)d has %(cells)d cells; the header names %(columns)d.")
                    % {"line": first_line, "cells": len(record), "columns": columns}
                }
            )
        starts.append(first_line)
    return starts


def _read_csv(content: bytes) -> pd.DataFrame:
    text = _decode(content)
    if not text.strip():
        raise ValidationError({"file": _("The file is empty.")})
    try:
        lines = _first_lines_of_rows(text)
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise ValidationError({"file": _("The CSV file cannot be read: %(error)s") % {"error": exc}}) from exc
    if len(lines) != len(frame):  # the two readers split the rows differently: no line is certain
        logger.warning("CSV rows: %d by line, %d read", len(lines), len(frame))
        raise ValidationError({"file": _("The CSV file cannot be read.")})
    frame.index = pd.Index(lines)
    return frame


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # A date-formatted cell comes back as midnight: keep it a date.
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(content: bytes) -> pd.DataFrame:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError({"file": _("The Excel file cannot be read.")}) from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise ValidationError({"file": _("The file is empty.")})
        header = [_xlsx_cell(cell) for cell in header]
        width = len(header)
        data = [[_xlsx_cell(cell) for cell in row[:width]] + [""] * (width - len(row)) for row in rows]
    finally:
        workbook.close()
    # One sheet row, one line: data starts on line 2.
    return pd.DataFrame(data, columns=header, dtype=str, index=pd.RangeIndex(2, len(data) + 2))


# --- Checking rows ------------------------------------------------------------------------


@dataclass
class RowErrors:
    entries: list[dict] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)

    def add(self, line: int, column: str, message: str) -> None:
        self.entries.append({"line": line, "column": column, "message": str(message)})
        self.bad_lines.add(line)


def _chunks(values: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _db_time(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _record_creation(model, ids: list[int], *, user: User, at: datetime) -> None:
    """The audit trail's "created" entry (django-simple-history) for every new row, copied from
    the rows just written with one INSERT ... SELECT per batch instead of one object per row."""
    history = model.history.model._meta
    source = model._meta
    tracked = [f.column for f in history.concrete_fields if not f.name.startswith("history_")]
    meta = {"history_date": _db_time(at), "history_change_reason": _("Bulk import"), "history_type": "+"}
    meta["history_user"] = user.pk
    target = [*tracked, *(history.get_field(name).column for name in meta)]
    for chunk in _chunks(ids):
        _execute(
            f"INSERT INTO {_q(history.db_table)} ({', '.join(map(_q, target))}) "
            f"SELECT {', '.join(map(_q, tracked))}, {', '.join(['%s'] * len(meta))} "
            f"FROM {_q(source.db_table)} WHERE {_q(source.pk.column)} IN ({', '.join(['%s'] * len(chunk))})",
            [*meta.values(), *chunk],
        )


def _users_by_username(usernames: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunks(sorted(usernames)):
        found.update({user.username: user for user in User.objects.filter(username__in=chunk)})
    return found


def _check_columns(frame: pd.DataFrame, kind: str) -> None:
    missing = [name for name in COLUMNS[kind]["required"] if name not in frame.columns]
    if missing:
        raise ValidationError(
            {"file": _("Missing required columns: %(columns)s.") % {"columns": ", ".join(missing)}}
        )


def _duplicates(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """True for every row after the first that repeats the values of `columns`."""
    keys = frame[columns].apply(lambda column: column.str.casefold())
    return keys.duplicated(keep="first") & (keys != "").all(axis=1)


def _max_length(errors: RowErrors, line: int, column: str, value: str, limit: int) -> None:
    if len(value) > limit:
        errors.add(line, column, _("At most %(limit)d characters.") % {"limit": limit})


class _Checker(ABC):
    """Turns the rows of one kind into unsaved model objects, collecting every problem."""

    kind: str

    def __init__(self, importer: User, frame: pd.DataFrame):
        self.importer = importer
        self.frame = frame
        self.errors = RowErrors()
        self.now = timezone.now()
        self.assignable_ids = set(assignable_users_for(importer).values_list("pk", flat=True))
        self.users = _users_by_username(self._referenced_usernames())

    def _referenced_usernames(self) -> set[str]:
        names: set[str] = set()
        for column in ("relationship_manager", "owner"):
            if column in self.frame.columns:
                names.update(value for value in self.frame[column].unique() if value)
        return names

    def _user(self, line: int, column: str, username: str, *, default: User | None) -> User | None:
        if not username:
            if default is None:
                self.errors.add(line, column, _("This column is required."))
            return default
        user = self.users.get(username)
        if user is None or not user.is_active:
            self.errors.add(line, column, _("No active user named “%(name)s”.") % {"name": username})
            return None
        if user.pk not in self.assignable_ids:
            self.errors.add(line, column, _("“%(name)s” is outside your scope.") % {"name": username})
            return None
        return user

    def _relationship_manager(self, line: int, username: str, *, default: User | None) -> User | None:
        user = self._user(line, "relationship_manager", username, default=default)
        if user is None:
            return None
        if self.importer.is_relationship_manager and user.pk != self.importer.pk:
            self.errors.add(
                line, "relationship_manager", _("A relationship manager imports only their own portfolio.")
            )
            return None
        if user.role not in (Role.RELATIONSHIP_MANAGER, Role.MANAGER):
            self.errors.add(line, "relationship_manager", _("This user is not a relationship manager."))
            return None
        if user.team_id is None:
            self.errors.add(line, "relationship_manager", _("This user belongs to no team."))
            return None
        return user

    def _load_clients(self, visible: QuerySet[Client]) -> None:
        """The clients the `client` column names, among `visible` (the importer's scope)."""
        self.clients: dict[str, list[Client]] = {}
        for chunk in _chunks(sorted(set(self.frame["client"]) - {""})):
            for client in visible.filter(name__in=chunk):
                self.clients.setdefault(client.name, []).append(client)

    def _client(self, line: int, name: str) -> Client | None:
        if not name:
            self.errors.add(line, "client", _("This column is required."))
            return None
        matches = self.clients.get(name, [])
        if not matches:
            self.errors.add(line, "client", _("No client named “%(name)s” in your scope.") % {"name": name})
            return None
        if len(matches) > 1:
            self.errors.add(line, "client", _("Several teams have a client with this name."))
            return None
        return matches[0]

    def _choice(self, line: int, column: str, value: str, choices: list[str], default: str) -> str | None:
        if not value:
            return default
        value = value.lower() if column != "currency" else value.upper()
        if value not in choices:
            self.errors.add(line, column, _("Must be one of: %(choices)s.") % {"choices": ", ".join(choices)})
            return None
        return value

    def check(self, on_progress) -> list:
        objects = []
        records = self.frame.to_dict("records")
        for start, chunk in enumerate(_chunks(list(zip(self.frame.index, records, strict=True)))):
            for line, row in chunk:
                obj = self.check_row(int(line), row)
                if obj is not None and int(line) not in self.errors.bad_lines:
                    objects.append(obj)
            on_progress(min((start + 1) * BATCH_SIZE, len(records)))
        return objects

    @abstractmethod
    def check_row(self, line: int, row: dict):
        """The unsaved object for a good row; problems go to `self.errors`."""

    @abstractmethod
    def write(self, objects: list) -> int:
        """Save the checked objects (inside the caller's transaction); returns how many."""


class _ClientChecker(_Checker):
    kind = ImportKind.CLIENTS

    def __init__(self, importer, frame):
        super().__init__(importer, frame)
        self.default_rm = importer if importer.role in (Role.RELATIONSHIP_MANAGER, Role.MANAGER) else None
        names = sorted(set(frame["name"]) - {""})
        self.existing: set[tuple[str, int]] = set()
        for chunk in _chunks(names):
            self.existing.update(
                (name.casefold(), team_id)
                for name, team_id in Client.objects.filter(name__in=chunk).values_list("name", "team_id")
            )
        self.seen: set[tuple[str, int]] = set()

    def check_row(self, line, row):
        name = row["name"]
        if not name:
            self.errors.add(line, "name", _("This column is required."))
        _max_length(self.errors, line, "name", name, 200)
        _max_length(self.errors, line, "industry", row.get("industry", ""), 120)
        _max_length(self.errors, line, "region", row.get("region", ""), 120)
        rm = self._relationship_manager(line, row.get("relationship_manager", ""), default=self.default_rm)
        if rm is None or not name:
            return None
        key = (name.casefold(), rm.team_id)
        if key in self.existing:
            self.errors.add(line, "name", _("This team already has a client with this name."))
            return None
        if key in self.seen:
            self.errors.add(line, "name", _("This client appears earlier in the file."))
            return None
        if line in self.errors.bad_lines:  # a bad row claims no name: a good one may follow
            return None
        self.seen.add(key)
        return Client(
            name=name,
            industry=row.get("industry", ""),
            region=row.get("region", ""),
            relationship_manager=rm,
            team_id=rm.team_id,
        )

    def write(self, objects):
        Client.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        return len(objects)


class _ContactChecker(_Checker):
    """The rules of `contact_create` (and the contacts API): a client in the importer's scope,
    a name, a valid e-mail that no other contact of the same client has (in any letter case)."""

    kind = ImportKind.CONTACTS

    def __init__(self, importer, frame):
        super().__init__(importer, frame)
        # As the contacts API: any client the importer sees (department staff import nothing).
        self._load_clients(clients_for(importer))
        client_ids = sorted({client.pk for matches in self.clients.values() for client in matches})
        self.existing: set[tuple[int, str]] = set()
        for chunk in _chunks(client_ids):
            self.existing.update(
                (client_id, email.casefold())
                for client_id, email in Contact.objects.filter(client_id__in=chunk).values_list(
                    "client_id", "email"
                )
            )
        self.seen: set[tuple[int, str]] = set()

    def _email(self, line: int, email: str) -> bool:
        if not email:
            self.errors.add(line, "email", _("This column is required."))
            return False
        if len(email) > 254:
            _max_length(self.errors, line, "email", email, 254)
            return False
        try:
            validate_email(email)
        except ValidationError as exc:
            self.errors.add(line, "email", exc.messages[0])
            return False
        return True

    def check_row(self, line, row):
        name, email = row["name"], row["email"]
        if not name:
            self.errors.add(line, "name", _("This column is required."))
        _max_length(self.errors, line, "name", name, 200)
        email_ok = self._email(line, email)
        title, phone = row.get("title", ""), row.get("phone", "")
        _max_length(self.errors, line, "title", title, 120)
        _max_length(self.errors, line, "phone", phone, 40)
        for column, value in (("name", name), ("title", title), ("phone", phone)):
            if "\x00" in value:
                self.errors.add(line, column, _("Null characters are not allowed."))
        language = self._choice(line, "language", row.get("language", ""), Language.values, Language.ZH_HANS)
        client = self._client(line, row["client"])
        if client is None or not email_ok:
            return None
        key = (client.pk, email.casefold())
        if key in self.existing:
            self.errors.add(line, "email", _("This client already has a contact with this email."))
            return None
        if key in self.seen:
            earlier = _("This client has a contact with this email earlier in the file.")
            self.errors.add(line, "email", earlier)
            return None
        if line in self.errors.bad_lines:  # a bad row claims no e-mail: a good one may follow
            return None
        self.seen.add(key)
        return Contact(client=client, name=name, email=email, title=title, phone=phone, language=language)

    def write(self, objects):
        Contact.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        return len(objects)


def _parse_amount(value: str) -> Decimal | None:
    try:
        amount = Decimal(value.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


class _ProjectChecker(_Checker):
    kind = ImportKind.PROJECTS

    def __init__(self, importer, frame):
        super().__init__(importer, frame)
        codes = sorted(set(frame["code"]) - {""})
        self.existing_codes: set[str] = set()
        for chunk in _chunks(codes):
            self.existing_codes.update(
                FinancingProject.objects.filter(code__in=chunk).values_list("code", flat=True)
            )
        repeated = _duplicates(frame, ["code"])
        self.repeated_code_lines = set(repeated[repeated].index)
        self._load_clients(clients_for(importer).select_related("relationship_manager"))

    def check_row(self, line, row):
        code, name = row["code"], row["name"]
        if not code:
            self.errors.add(line, "code", _("This column is required."))
        elif code in self.existing_codes:
            self.errors.add(line, "code", _("A project with this code already exists."))
        elif line in self.repeated_code_lines:
            self.errors.add(line, "code", _("This code appears earlier in the file."))
        _max_length(self.errors, line, "code", code, 40)
        if not name:
            self.errors.add(line, "name", _("This column is required."))
        _max_length(self.errors, line, "name", name, 200)
        amount = _parse_amount(row["amount"])
        if amount is None:
            self.errors.add(line, "amount", _("Not a number."))
        elif amount <= 0:
            self.errors.add(line, "amount", _("The amount must be greater than zero."))
        elif amount.as_tuple().exponent < -2 or amount >= Decimal(10) ** (AMOUNT_MAX_DIGITS - 2):
            self.errors.add(
                line,
                "amount",
                _("At most %(digits)d digits before the decimal point and 2 after.")
                % {"digits": AMOUNT_MAX_DIGITS - 2},
            )
        currency = self._choice(line, "currency", row.get("currency", ""), Currency.values, Currency.CNY)
        stage = self._choice(line, "stage", row.get("stage", ""), Stage.values, Stage.INQUIRY)
        default_status = ProjectStatus.CLOSED if stage == Stage.CLOSED else ProjectStatus.ACTIVE
        status = self._choice(line, "status", row.get("status", ""), ProjectStatus.values, default_status)
        cadence = row.get("update_cadence_days", "") or "14"
        # ASCII digits only ("²" is a digit to str.isdigit() but not to int()), and few of them.
        days = int(cadence) if cadence.isascii() and cadence.isdigit() and len(cadence) <= 9 else 0
        if not 1 <= days <= MAX_UPDATE_CADENCE_DAYS:
            self.errors.add(
                line,
                "update_cadence_days",
                _("A whole number of days from 1 to %(max)d.") % {"max": MAX_UPDATE_CADENCE_DAYS},
            )
        client = self._client(line, row["client"])
        if client is None:
            return None
        default_rm = self.importer if self.importer.is_relationship_manager else client.relationship_manager
        rm = self._relationship_manager(line, row.get("relationship_manager", ""), default=default_rm)
        if rm is None:
            return None
        if rm.team_id != client.team_id:
            self.errors.add(line, "relationship_manager", _("This user is not in the client's team."))
            return None
        if line in self.errors.bad_lines:
            return None
        return FinancingProject(
            client=client,
            name=name,
            code=code,
            amount=amount,
            currency=currency,
            stage=stage,
            status=status,
            relationship_manager=rm,
            team_id=client.team_id,
            update_cadence_days=days,
            stage_entered_at=self.now,
            next_update_due_at=self.now + timedelta(days=days),
        )

    def write(self, objects):
        FinancingProject.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        ids = [project.pk for project in objects]
        _record_creation(FinancingProject, ids, user=self.importer, at=self.now)
        # The first stage of each new project, copied set-based from the rows just written.
        transition, project = StageTransition._meta, FinancingProject._meta
        names = ("project", "from_stage", "stage", "entered_at", "left_at", "moved_by", "override", "note")
        columns = ", ".join(_q(transition.get_field(name).column) for name in names)
        pk, stage = _q(project.pk.column), _q(project.get_field("stage").column)
        for chunk in _chunks(ids):
            _execute(
                f"INSERT INTO {_q(transition.db_table)} ({columns}) "
                f"SELECT {pk}, '', {stage}, %s, NULL, %s, %s, '' FROM {_q(project.db_table)} "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(chunk))})",
                [_db_time(self.now), self.importer.pk, False, *chunk],
            )
        return len(objects)


class _CommitmentChecker(_Checker):
    kind = ImportKind.COMMITMENTS

    def __init__(self, importer, frame):
        super().__init__(importer, frame)
        self.zone = importer.zone  # the importer's, or the site's
        codes = sorted(set(frame["project"]) - {""})
        self.projects: dict[str, FinancingProject] = {}
        editable = portfolio_for(importer).select_related("client", "relationship_manager")
        if importer.is_relationship_manager:
            editable = editable.filter(
                Q(relationship_manager=importer) | Q(client__relationship_manager=importer)
            )
        for chunk in _chunks(codes):
            self.projects.update({p.code: p for p in editable.filter(code__in=chunk)})

    def _due_at(self, line: int, value: str) -> datetime | None:
        if not value:
            self.errors.add(line, "due_at", _("This column is required."))
            return None
        try:
            day = parse_date(value.replace("/", "-"))
            moment = None if day else parse_datetime(value.replace("/", "-"))
        except ValueError:
            moment = day = None
        if moment is None and day is None:
            self.errors.add(line, "due_at", _("Not a date; write 2026-12-31 or 2026-12-31 17:00."))
            return None
        if moment is None:
            # A bare date means by the end of that day, in the importer's time zone.
            moment = datetime.combine(day, time(23, 59))
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, self.zone)
        if moment <= self.now:
            self.errors.add(line, "due_at", _("A new commitment must be due in the future."))
            return None
        if not in_range(moment):  # 9999-12-31 late in the day: no UTC (nor every zone) holds it
            self.errors.add(line, "due_at", OUT_OF_RANGE)
            return None
        return moment

    def check_row(self, line, row):
        title = row["title"]
        if not title:
            self.errors.add(line, "title", _("This column is required."))
        _max_length(self.errors, line, "title", title, 240)
        due_at = self._due_at(line, row["due_at"])
        kind = self._choice(line, "kind", row.get("kind", ""), CommitmentKind.values, CommitmentKind.OTHER)
        code = row["project"]
        project = self.projects.get(code) if code else None
        if not code:
            self.errors.add(line, "project", _("This column is required."))
        elif project is None:
            self.errors.add(
                line, "project", _("No project with code “%(code)s” in your scope.") % {"code": code}
            )
        elif project.status in (ProjectStatus.CLOSED, ProjectStatus.LOST):
            self.errors.add(line, "project", _("The project is closed."))
            project = None
        owner = None
        if project is not None or row.get("owner"):
            default_owner = project.relationship_manager if project else None
            owner = self._user(line, "owner", row.get("owner", ""), default=default_owner)
        department = row.get("department", "")
        if department and department.lower() not in Department.values:
            self.errors.add(
                line,
                "department",
                _("Must be one of: %(choices)s.") % {"choices": ", ".join(Department.values)},
            )
        if project is None or owner is None or line in self.errors.bad_lines:
            return None
        return Commitment(
            project=project,
            title=title,
            description=row.get("description", ""),
            kind=kind,
            owner=owner,
            department=department.lower() or owner.department,
            due_at=due_at,
            created_by=self.importer,
            created_at=self.now,
        )

    def write(self, objects):
        Commitment.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        _record_creation(Commitment, [c.pk for c in objects], user=self.importer, at=self.now)
        return len(objects)


CHECKERS: dict[str, type[_Checker]] = {
    ImportKind.CLIENTS: _ClientChecker,
    ImportKind.CONTACTS: _ContactChecker,
    ImportKind.PROJECTS: _ProjectChecker,
    ImportKind.COMMITMENTS: _CommitmentChecker,
}


# --- Services -----------------------------------------------------------------------------


def _language_of(user: User, language: str | None) -> str:
    """A language the site speaks: the one asked for (the request's), else the user's own."""
    for candidate in (language, user.language):
        try:
            return translation.get_supported_language_variant(candidate)
        except LookupError:
            continue
    return ""


def import_job_create(
    *,
    kind: str,
    filename: str,
    content: bytes,
    created_by: User,
    import_valid_rows: bool = False,
    language: str | None = None,
) -> ImportJob:
    """Record an uploaded file as a queued import; `import_job_run` does the work. The errors
    will be written in `language` (the upload request's), by default the uploader's own."""
    if not can_import(created_by):
        raise PermissionDenied(_("Your role cannot import data."))
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Choose clients, contacts, projects or commitments.")})
    if not filename.lower().endswith(ALLOWED_EXTENSIONS):
        raise ValidationError({"file": _("Upload a .csv or .xlsx file.")})
    if not content:
        raise ValidationError({"file": _("The file is empty.")})
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than 25 MB.")})
    return ImportJob.objects.create(
        kind=kind,
        filename=filename[-255:],
        source=content,
        import_valid_rows=import_valid_rows,
        language=_language_of(created_by, language),
        created_by=created_by,
    )


def runs_inline(job: ImportJob) -> bool:
    return len(job.source) <= INLINE_MAX_BYTES


def _finish(job: ImportJob, **fields) -> ImportJob:
    fields.update(finished_at=timezone.now(), source=b"")
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Check every row, then write all of them (or only the good ones) in one transaction.

    The job is claimed with a compare-and-set update, so a redelivered task never imports twice.
    Progress (`processed`) is committed as rows are checked, for the progress bar. Every message
    is written in the uploader's language, whichever language the running process speaks.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    with translation.override(job.language) if job.language else nullcontext():
        return _run(job)


def _run(job: ImportJob) -> ImportJob:
    try:
        frame = read_table(content=bytes(job.source), filename=job.filename)
        _check_columns(frame, job.kind)
        if frame.empty:
            raise ValidationError({"file": _("The file has no rows to import.")})
        ImportJob.objects.filter(pk=job.pk).update(total=len(frame))
        checker = CHECKERS[job.kind](job.created_by, frame)
        objects = checker.check(
            lambda done: ImportJob.objects.filter(pk=job.pk).update(processed=done),
        )
        errors = checker.errors.entries
        if errors and not job.import_valid_rows:
            return _finish(job, status=ImportStatus.REJECTED, errors=errors, imported=0)
        with transaction.atomic():
            imported = checker.write(objects)
        return _finish(job, status=ImportStatus.DONE, errors=errors, imported=imported)
    except ValidationError as exc:
        messages = [str(message) for messages in exc.message_dict.values() for message in messages]
        entries = [{"line": 1, "column": "", "message": message} for message in messages]
        return _finish(job, status=ImportStatus.REJECTED, errors=entries, imported=0)
    except IntegrityError:
        logger.warning("Import %s conflicted with a concurrent change", job.pk)
        entry = {
            "line": None,
            "column": "",
            "message": _("Someone else created some of these rows meanwhile."),
        }
        return _finish(job, status=ImportStatus.REJECTED, errors=[entry], imported=0)
    except Exception:
        logger.exception("Import %s failed", job.pk)
        entry = {
            "line": None,
            "column": "",
            "message": _("The import failed unexpectedly; nothing was saved."),
        }
        return _finish(job, status=ImportStatus.FAILED, errors=[entry], imported=0)
