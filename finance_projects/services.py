"""Every write on the core domain that carries a business rule. One function, one transaction.

Rule violations raise `django.core.exceptions.ValidationError` keyed by the field at fault;
the API and the forms show that message and nothing is saved.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from . import selectors
from .alerts import hold_scan_locks
from .models import (
    MAX_UPDATE_CADENCE_DAYS,
    NOTE_MAX_CHARS,
    STALE_SEVERITY,
    Alert,
    AlertKind,
    Client,
    Commitment,
    CommitmentStatus,
    Contact,
    FinancingProject,
    ProjectStatus,
    ProjectStatusLink,
    Stage,
    StageTransition,
    Touchpoint,
)
from .tokens import hash_token, new_token, token_for_request


def _check_note_length(field: str, text: str) -> None:
    """A typed note or reason stays within NOTE_MAX_CHARS, like the fields that hold it."""
    try:
        MaxLengthValidator(NOTE_MAX_CHARS)(text)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def _check_relationship_manager(*, relationship_manager: User, team_id: int | None) -> None:
    """A client's or project's relationship manager works in the client's team and is active."""
    if not relationship_manager.is_active:
        raise ValidationError({"relationship_manager": _("This user is no longer active.")})
    if relationship_manager.team_id != team_id:
        raise ValidationError(
            {"relationship_manager": _("The relationship manager must belong to the client's team.")}
        )


@transaction.atomic
def client_create(*, name: str, relationship_manager: User, industry: str = "", region: str = "") -> Client:
    """A new client belongs to the team of the relationship manager who looks after it."""
    team_id = relationship_manager.team_id
    if team_id is None:
        raise ValidationError({"relationship_manager": _("The relationship manager has no team.")})
    _check_relationship_manager(relationship_manager=relationship_manager, team_id=team_id)
    name = (name or "").strip()
    if Client.objects.filter(name=name, team_id=team_id).exists():
        raise ValidationError({"name": _("The team already has a client with this name.")})
    client = Client(
        name=name,
        industry=industry,
        region=region,
        relationship_manager=relationship_manager,
        team_id=team_id,
    )
    client.full_clean()
    client.save()
    return client


@transaction.atomic
def client_update(*, client: Client, **fields) -> Client:
    """Edit a client; the relationship manager may change within the client's team only."""
    for name, value in fields.items():
        setattr(client, name, value)
    if "relationship_manager" in fields:
        _check_relationship_manager(relationship_manager=client.relationship_manager, team_id=client.team_id)
    if "name" in fields:
        client.name = (client.name or "").strip()
        if Client.objects.filter(name=client.name, team_id=client.team_id).exclude(pk=client.pk).exists():
            raise ValidationError({"name": _("The team already has a client with this name.")})
    client.full_clean()
    client.save()
    return client


def _check_contact_email(contact: Contact) -> None:
    duplicate = Contact.objects.filter(client_id=contact.client_id, email__iexact=contact.email)
    if contact.pk:
        duplicate = duplicate.exclude(pk=contact.pk)
    if duplicate.exists():
        raise ValidationError({"email": _("This client already has a contact with this email.")})


@transaction.atomic
def contact_create(
    *,
    client: Client,
    name: str,
    email: str,
    title: str = "",
    phone: str = "",
    language: str = "zh-hans",
    opted_out: bool = False,
) -> Contact:
    contact = Contact(
        client=client,
        name=(name or "").strip(),
        email=(email or "").strip(),
        title=title,
        phone=phone,
        language=language,
        opted_out=opted_out,
    )
    _check_contact_email(contact)
    contact.full_clean()
    contact.save()
    return contact


def _check_contact_client_move(*, stored: Contact, client: Client | None) -> None:
    """A contact with a history (touchpoints, surveys, complaints, in any app) stays with the
    client whose projects that history is about: moved, their touchpoints and complaints would
    name someone of another client. One without a history was entered under the wrong client
    by mistake and may move. `stored` is the contact's row as locked by the caller."""
    if client is None or client.pk == stored.client_id:
        return
    if selectors.contact_has_history(stored):
        raise ValidationError(
            {
                "client": _(
                    "This contact has a history with this client's projects and cannot move to "
                    "another client. Add them to the other client as a new contact instead."
                )
            }
        )


@transaction.atomic
def contact_update(*, contact: Contact, by_administrator: bool = False, **fields) -> Contact:
    """Change a contact's details. An opt-out of surveys is the client's own choice: staff may
    record one, but undoing it is left to an administrator (in the admin site, which passes
    `by_administrator`), at the client's request. A contact with a history keeps their client."""
    # The stored row, locked: the client may have opted out since the caller read it, and a
    # save of the caller's copy would write its stale `opted_out` back.
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if "client" in fields:
        _check_contact_client_move(stored=contact, client=fields["client"])
    if contact.opted_out and fields.get("opted_out") is False and not by_administrator:
        raise ValidationError(
            {
                "opted_out": _(
                    "This contact opted out of surveys. Only an administrator can opt them back in, "
                    "at their request."
                )
            }
        )
    for name, value in fields.items():
        setattr(contact, name, value)
    _check_contact_email(contact)
    contact.full_clean()
    contact.save(update_fields=list(fields))
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    """Remove a contact entered by mistake. A contact with a history (touchpoints, surveys,
    complaints, in any app) stays: the record needs them, and deleting would take survey answers
    with it or be refused by the database. Opt them out, or correct their details, instead."""
    # Locked, so nothing new can point at the contact between the check and the delete.
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if selectors.contact_has_history(contact):
        raise ValidationError(
            {
                "contact": _(
                    "This contact has a history with the bank (touchpoints, surveys or "
                    "complaints) and cannot be deleted. Opt them out of surveys or correct "
                    "their details instead."
                )
            }
        )
    contact.delete()


def _check_update_cadence(days: int) -> None:
    """Refuse a cadence outside 1..MAX_UPDATE_CADENCE_DAYS on its field, before any deadline is
    computed from it: a cadence of millions of days has no date (OverflowError)."""
    if days < 1:
        raise ValidationError({"update_cadence_days": _("The update cadence must be at least one day.")})
    if days > MAX_UPDATE_CADENCE_DAYS:
        raise ValidationError(
            {
                "update_cadence_days": _("The update cadence must be at most %(max)d days.")
                % {"max": MAX_UPDATE_CADENCE_DAYS}
            }
        )


def _schedule_next_update(project: FinancingProject) -> None:
    since = project.last_client_update_at or project.created_at or timezone.now()
    project.next_update_due_at = since + timedelta(days=project.update_cadence_days)


@transaction.atomic
def project_create(
    *,
    client: Client,
    name: str,
    code: str,
    amount: Decimal,
    currency: str,
    relationship_manager: User,
    created_by: User | None = None,
    stage: str = Stage.INQUIRY,
    update_cadence_days: int = 14,
    status: str = ProjectStatus.ACTIVE,
    at: datetime | None = None,
) -> FinancingProject:
    at = at or timezone.now()
    if amount is None or Decimal(amount) <= 0:
        raise ValidationError({"amount": _("The amount must be greater than zero.")})
    _check_update_cadence(update_cadence_days)
    _check_relationship_manager(relationship_manager=relationship_manager, team_id=client.team_id)
    project = FinancingProject(
        client=client,
        name=name,
        code=code,
        amount=amount,
        currency=currency,
        stage=stage,
        status=status,
        relationship_manager=relationship_manager,
        team=client.team,
        update_cadence_days=update_cadence_days,
        stage_entered_at=at,
        # The first update is due one cadence after the project is opened.
        next_update_due_at=at + timedelta(days=update_cadence_days),
    )
    project.full_clean(exclude=["health", "health_factors", "health_computed_at"])
    project.save()
    StageTransition.objects.create(project=project, stage=stage, entered_at=at, moved_by=created_by)
    return project


def _project_names_contacts(project: FinancingProject) -> bool:
    """Whether any of the project's records, in any app (touchpoints, status links, survey
    invitations, complaints...), names a contact: those contacts work for the project's client,
    so the project stays with it. Found through the relations to `Contact`, so the apps that
    build on this one need not be imported here."""
    for relation in Contact._meta.related_objects:
        model = relation.related_model
        try:
            project_field = model._meta.get_field("project")
        except FieldDoesNotExist:
            continue
        if not project_field.is_relation or project_field.related_model is not FinancingProject:
            continue
        if model._base_manager.filter(project=project, **{f"{relation.field.name}__isnull": False}).exists():
            return True
    return False


@transaction.atomic
def project_update(*, project: FinancingProject, **fields) -> FinancingProject:
    """Edit plain project fields; the cadence change moves the next-update deadline with it.

    The stage changes only through `project_move_stage`; the team always follows the client.
    """
    if "stage" in fields and fields["stage"] != project.stage:
        raise ValidationError({"stage": _("Move the project through its stages with the move-stage action.")})
    fields.pop("stage", None)
    fields.pop("team", None)
    marks_alerts = bool({"code", "name", "status"} & fields.keys())
    if marks_alerts:
        hold_scan_locks(MIRRORED_SCAN_KINDS)
    # From the database: a form may already have written the new RM onto `project`.
    outgoing_rm_id = (
        FinancingProject.objects.filter(pk=project.pk).values_list("relationship_manager_id", flat=True).get()
        if "relationship_manager" in fields
        else project.relationship_manager_id
    )
    for name, value in fields.items():
        setattr(project, name, value)
    project.team_id = project.client.team_id
    if "client" in fields or "relationship_manager" in fields:
        _check_relationship_manager(
            relationship_manager=project.relationship_manager, team_id=project.team_id
        )
    if "amount" in fields and (project.amount is None or project.amount <= 0):
        raise ValidationError({"amount": _("The amount must be greater than zero.")})
    if "update_cadence_days" in fields:
        _check_update_cadence(project.update_cadence_days)
        _schedule_next_update(project)
    project.full_clean(exclude=["health", "health_factors", "health_computed_at"])
    if project.relationship_manager_id != outgoing_rm_id:
        # An RM sees only their own projects: what the outgoing one had to handle goes to the new
        # one. Before the project's row, in the order a beat locks them (alerts, then subjects).
        Alert.objects.filter(project=project, resolved_at__isnull=True, assignee_id=outgoing_rm_id).update(
            assignee_id=project.relationship_manager_id
        )
    # The project's row, locked before the save writes it; its client as stored, since a form
    # may already have written the new one onto `project`.
    stored_client_id = (
        FinancingProject.objects.select_for_update()
        .filter(pk=project.pk)
        .values_list("client_id", flat=True)
        .get()
    )
    if project.client_id != stored_client_id and _project_names_contacts(project):
        raise ValidationError(
            {
                "client": _(
                    "This project's records name contacts of its client; it cannot move to another client."
                )
            }
        )
    project.save()
    if marks_alerts:
        _mark_project_alerts_stale(project)
    return project


# The scans whose subjects store their alert severity (finance_projects.scans), which the marks
# below must not interleave with (alerts.hold_scan_locks, taken before any row lock).
MIRRORED_SCAN_KINDS = (
    AlertKind.UPDATE_OVERDUE,
    AlertKind.COMMITMENT_DUE_SOON,
    AlertKind.COMMITMENT_MISSED,
    AlertKind.STAGE_OVERRUN,
)
COMMITMENT_SCAN_KINDS = (AlertKind.COMMITMENT_DUE_SOON, AlertKind.COMMITMENT_MISSED)


def _mark_project_alerts_stale(project: FinancingProject) -> None:
    """The open scan alerts about the project, its commitments and its stages quote its code and
    name, and hold only while it runs: the next beat of each scan rewrites or resolves them."""
    FinancingProject.objects.filter(pk=project.pk).exclude(update_alert_severity="").update(
        update_alert_severity=STALE_SEVERITY
    )
    StageTransition.objects.filter(project=project).exclude(overrun_alert_severity="").update(
        overrun_alert_severity=STALE_SEVERITY
    )
    _mark_commitment_alerts_stale(Commitment.objects.filter(project=project))


def _mark_commitment_alerts_stale(commitments) -> None:
    for column in ("due_soon_alert_severity", "missed_alert_severity"):
        commitments.exclude(**{column: ""}).update(**{column: STALE_SEVERITY})


@transaction.atomic
def project_move_stage(
    *,
    project: FinancingProject,
    to_stage: str,
    moved_by: User,
    override: bool = False,
    note: str = "",
    at: datetime | None = None,
) -> StageTransition:
    """Move a project forward one stage. Skipping or going back needs a manager's override."""
    at = at or timezone.now()
    if to_stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage.")})
    _check_note_length("note", note)
    if to_stage == Stage.CLOSED:
        hold_scan_locks(MIRRORED_SCAN_KINDS)
    project = FinancingProject.objects.select_for_update().get(pk=project.pk)
    if to_stage == project.stage:
        raise ValidationError({"stage": _("The project is already in this stage.")})
    one_step = Stage.next_after(project.stage) == to_stage
    if not one_step:
        if not override:
            raise ValidationError(
                {
                    "stage": _(
                        "A project moves forward one stage at a time; "
                        "skipping or going back needs a manager's override."
                    )
                }
            )
        if not (moved_by.is_manager or moved_by.is_admin_role):
            raise ValidationError({"stage": _("Only a manager may override the stage order.")})
        if not note.strip():
            raise ValidationError({"note": _("Say why the stage order is overridden.")})
    StageTransition.objects.filter(project=project, left_at__isnull=True).update(left_at=at)
    transition = StageTransition.objects.create(
        project=project,
        from_stage=project.stage,
        stage=to_stage,
        entered_at=at,
        moved_by=moved_by,
        override=not one_step,
        note=note,
    )
    project.stage = to_stage
    project.stage_entered_at = at
    if to_stage == Stage.CLOSED:
        project.status = ProjectStatus.CLOSED
    project.save(update_fields=["stage", "stage_entered_at", "status", "updated_at"])
    if project.status == ProjectStatus.CLOSED:
        _mark_project_alerts_stale(project)
    transition.project = project
    _after_stage_change(transition)
    return transition


# Upper apps (feedback: milestone surveys) subscribe here; the core never imports them.
STAGE_CHANGE_HOOKS: list = []


def _after_stage_change(transition: StageTransition) -> None:
    for hook in STAGE_CHANGE_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(transition))


def check_contact_of_project(*, project: FinancingProject, contact: Contact | None) -> None:
    """Refuse a contact who does not work for the project's client, for a record about to name
    them on the project (a touchpoint, a status link, a complaint, a survey invitation); call it
    in the transaction that writes the record.

    The two rows are read as stored and, on PostgreSQL, held against a move to another client
    until the transaction ends (`project_update` and `contact_update` lock the row they move;
    FOR KEY SHARE waits for such a lock and blocks it, and nothing else): a move at the same
    moment either commits first and is seen here, or waits and then finds the new record.
    """
    if contact is None:
        return
    project_table = connection.ops.quote_name(FinancingProject._meta.db_table)
    contact_table = connection.ops.quote_name(Contact._meta.db_table)
    hold = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.client_id, c.client_id FROM {project_table} AS p, {contact_table} AS c "
            f"WHERE p.id = %s AND c.id = %s{hold}",
            [project.pk, contact.pk],
        )
        row = cursor.fetchone()
    if row is None or row[0] != row[1]:
        raise ValidationError({"contact": _("This contact belongs to another client.")})


@transaction.atomic
def touchpoint_log(
    *,
    project: FinancingProject,
    channel: str,
    occurred_at: datetime,
    summary: str,
    logged_by: User | None,
    contact: Contact | None = None,
    is_client_update: bool = False,
    shareable: bool = False,
    needs_attention: bool = False,
) -> Touchpoint:
    """Record a contact with the client; a client update moves the next-update deadline."""
    now = timezone.now()
    if occurred_at > now + timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("A touchpoint cannot be in the future.")})
    if not summary or not summary.strip():
        raise ValidationError({"summary": _("Describe what happened.")})
    check_contact_of_project(project=project, contact=contact)
    touchpoint = Touchpoint(
        project=project,
        contact=contact,
        channel=channel,
        occurred_at=occurred_at,
        summary=summary.strip(),
        is_client_update=is_client_update,
        shareable=shareable,
        needs_attention=needs_attention,
        logged_by=logged_by,
    )
    touchpoint.full_clean()
    touchpoint.save()
    if is_client_update:
        # Only move forward: logging an older update must not hide a newer one.
        locked = FinancingProject.objects.select_for_update().get(pk=project.pk)
        if locked.last_client_update_at is None or occurred_at > locked.last_client_update_at:
            locked.last_client_update_at = occurred_at
            _schedule_next_update(locked)
            locked.save(update_fields=["last_client_update_at", "next_update_due_at", "updated_at"])
            project.last_client_update_at = locked.last_client_update_at
            project.next_update_due_at = locked.next_update_due_at
    return touchpoint


# What moved the client-update deadline (the project, the moment, whether it was a client
# update) stays as it was logged.
TOUCHPOINT_EDITABLE_FIELDS = frozenset({"contact", "channel", "summary", "shareable", "needs_attention"})


@transaction.atomic
def touchpoint_edit(*, touchpoint: Touchpoint, **fields) -> Touchpoint:
    """Correct a logged touchpoint under the rules it was logged with."""
    unknown = set(fields) - TOUCHPOINT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed.")})
    for name, value in fields.items():
        setattr(touchpoint, name, value)
    if "summary" in fields:
        touchpoint.summary = (touchpoint.summary or "").strip()
        if not touchpoint.summary:
            raise ValidationError({"summary": _("Describe what happened.")})
    if "contact" in fields:
        check_contact_of_project(project=touchpoint.project, contact=touchpoint.contact)
    touchpoint.full_clean()
    touchpoint.save(update_fields=list(fields))
    return touchpoint


@transaction.atomic
def commitment_create(
    *,
    project: FinancingProject,
    title: str,
    due_at: datetime,
    owner: User,
    created_by: User | None,
    kind: str = "other",
    department: str = "",
    description: str = "",
) -> Commitment:
    if due_at <= timezone.now():
        raise ValidationError({"due_at": _("A new commitment must be due in the future.")})
    if project.status in (ProjectStatus.CLOSED, ProjectStatus.LOST):
        raise ValidationError({"project": _("The project is closed.")})
    commitment = Commitment(
        project=project,
        title=title,
        description=description,
        kind=kind,
        owner=owner,
        department=department or owner.department,
        due_at=due_at,
        created_by=created_by,
    )
    commitment.full_clean()
    commitment.save()
    return commitment


COMMITMENT_EDITABLE_FIELDS = frozenset({"title", "description", "kind", "owner", "department"})


@transaction.atomic
def commitment_update(*, commitment: Commitment, by: User, **fields) -> Commitment:
    """Reword or reassign an open commitment; its date changes only by renegotiation."""
    unknown = set(fields) - COMMITMENT_EDITABLE_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        message = (
            _("Renegotiate the commitment to change its due date.")
            if field == "due_at"
            else _("This field cannot be changed.")
        )
        raise ValidationError({field: message})
    if "title" in fields:
        hold_scan_locks(COMMITMENT_SCAN_KINDS)
    locked = _lock_open_commitment(commitment)
    for name, value in fields.items():
        setattr(locked, name, value)
    if "owner" in fields and not locked.owner.is_active:
        raise ValidationError({"owner": _("This user is no longer active.")})
    locked._history_user = by
    locked.full_clean()
    locked.save()
    if "title" in fields:
        # Its open alerts quote the old title: the next beat rewrites them.
        _mark_commitment_alerts_stale(Commitment.objects.filter(pk=locked.pk))
    return locked


def _lock_open_commitment(commitment: Commitment) -> Commitment:
    locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
    if locked.status != CommitmentStatus.OPEN:
        raise ValidationError(
            {"status": _("This commitment is already %(status)s.") % {"status": locked.get_status_display()}}
        )
    return locked


@transaction.atomic
def commitment_fulfil(*, commitment: Commitment, by: User, at: datetime | None = None) -> Commitment:
    at = at or timezone.now()
    locked = _lock_open_commitment(commitment)
    locked.status = CommitmentStatus.FULFILLED
    locked.fulfilled_at = at
    locked.closed_at = at
    locked._history_user = by
    locked.save(update_fields=["status", "fulfilled_at", "closed_at"])
    return locked


@transaction.atomic
def commitment_renegotiate(
    *, commitment: Commitment, new_due_at: datetime, reason: str, by: User
) -> Commitment:
    """Close the commitment as renegotiated and open its successor with the agreed new date."""
    now = timezone.now()
    if new_due_at is None or new_due_at <= now:
        raise ValidationError({"new_due_at": _("The new due date must be in the future.")})
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("Say why the commitment is renegotiated.")})
    _check_note_length("reason", reason.strip())
    locked = _lock_open_commitment(commitment)
    if new_due_at == locked.due_at:
        raise ValidationError({"new_due_at": _("The new due date is the same as the current one.")})
    locked.status = CommitmentStatus.RENEGOTIATED
    locked.closed_at = now
    locked.close_reason = reason.strip()
    locked._history_user = by
    locked.save(update_fields=["status", "closed_at", "close_reason"])
    successor = locked.successor(due_at=new_due_at, created_by_id=by.pk, created_at=now)
    successor._history_user = by
    successor.save()
    return successor


@transaction.atomic
def commitment_cancel(*, commitment: Commitment, reason: str, by: User) -> Commitment:
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("Say why the commitment is cancelled.")})
    _check_note_length("reason", reason.strip())
    locked = _lock_open_commitment(commitment)
    locked.status = CommitmentStatus.CANCELLED
    locked.closed_at = timezone.now()
    locked.close_reason = reason.strip()
    locked._history_user = by
    locked.save(update_fields=["status", "closed_at", "close_reason"])
    return locked


@transaction.atomic
def status_link_create(
    *,
    project: FinancingProject,
    contact: Contact,
    created_by: User,
    days: int = 30,
    request_key: str = "",
) -> tuple[ProjectStatusLink, str]:
    """Create a client status link; returns the row and the token, which is never stored.

    With a `request_key` (the form's, one per form shown), the same request sent again (the page
    reloaded, a double click) gets the link it created the first time, shown again, instead of
    another live link to the client's project; once that link is revoked or expired, the request
    is refused. Its token is then not random but derived from the key (`token_for_request`), so
    it can be shown again without being stored.
    """
    if not 1 <= days <= 365:
        raise ValidationError({"days": _("A link lasts between 1 and 365 days.")})
    check_contact_of_project(project=project, contact=contact)
    if not request_key:
        token = new_token()
    else:
        request = f"{created_by.pk}:{project.pk}:{contact.pk}:{days}:{request_key}"
        token = token_for_request("status-link", request)
        sent_before = ProjectStatusLink.objects.filter(token_hash=hash_token(token)).first()
        if sent_before is not None and sent_before.is_usable():
            return sent_before, token
        if sent_before is not None:
            # Revoked or expired since: the form is spent. Sending it again (a reload, a restored
            # session) must not hand out a new live link unasked, every time.
            raise ValidationError(
                _(
                    "The link this form created has been revoked or has expired. "
                    "Create a new one if it is needed."
                )
            )
    fields = {
        "project": project,
        "contact": contact,
        "token_hash": hash_token(token),
        "created_by": created_by,
        "expires_at": timezone.now() + timedelta(days=days),
    }
    try:
        with transaction.atomic():
            link = ProjectStatusLink.objects.create(**fields)
    except IntegrityError:
        # The same request at the same moment (both clicks of a double click): the other one
        # created it.
        link = ProjectStatusLink.objects.filter(token_hash=fields["token_hash"]).first()
        if link is None or not request_key:
            raise
    return link, token


def status_link_revoke(*, link: ProjectStatusLink) -> ProjectStatusLink:
    ProjectStatusLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    link.refresh_from_db()
    return link


def status_link_resolve(token: str) -> ProjectStatusLink | None:
    """The usable link for a token, or None for unknown, expired and revoked alike, and for a
    contact who no longer works for the project's client (moved to another client since)."""
    link = (
        ProjectStatusLink.objects.select_related("project", "contact", "project__client")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if link is None or not link.is_usable() or link.contact.client_id != link.project.client_id:
        return None
    # A GET never consumes the link; it only notes the visit.
    ProjectStatusLink.objects.filter(pk=link.pk).update(last_viewed_at=timezone.now())
    return link
