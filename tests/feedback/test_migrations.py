"""The feedback data migrations bring databases migrated before them up to the new rules."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
OLD_CONTACT_OPTIONS = "yes|是的，请联系我|Yes, please contact me\nno|不用了|No, thank you"


def test_the_models_and_the_migrations_agree(db):
    call_command("makemigrations", "feedback", "--check", "--dry-run", verbosity=0)


def _migrate_to(migration):
    """Migrate to `migration`; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(migration)
    return executor.loader.project_state(migration).apps


@pytest.mark.django_db(transaction=True)
def test_the_shipped_and_legacy_contact_options_get_the_flag_and_a_relabelled_one_is_left_alone():
    old = _migrate_to([("feedback", "0004_invitation_answer_updates_in_place")])
    question = old.get_model("feedback", "Question")
    shipped = question.objects.get(survey__kind="relationship", type="choice")
    shipped.choices = OLD_CONTACT_OPTIONS  # as the shipped survey was before the flag
    shipped.save()
    relabelled = question.objects.create(
        survey=shipped.survey, position=9, type="choice", choices="ja|要|Yes\nnein|不要|No"
    )
    legacy = question.objects.create(
        survey=shipped.survey,
        position=10,
        type="choice",
        choices="contact_me|请联系我|Call me\nfine|不用|Fine",
    )
    version = shipped.survey.updated_at

    new = _migrate_to([("feedback", "0005_contact_request_option")])
    questions = new.get_model("feedback", "Question").objects

    assert questions.get(pk=shipped.pk).choices == (
        "yes|是的，请联系我|Yes, please contact me|contact_request\nno|不用了|No, thank you"
    )
    assert questions.get(pk=relabelled.pk).choices == "ja|要|Yes\nnein|不要|No"
    assert (
        questions.get(pk=legacy.pk).choices == "contact_me|请联系我|Call me|contact_request\nfine|不用|Fine"
    )
    assert new.get_model("feedback", "Survey").objects.get(pk=shipped.survey_id).updated_at > version
    call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_automatic_reasons_become_parameters_and_typed_ones_stay_as_typed():
    old = _migrate_to([("feedback", "0005_contact_request_option")])
    team = old.get_model("accounts", "Team").objects.create(name="Energy")
    rm = old.get_model("accounts", "User").objects.create(username="rm-before", team=team)
    client = old.get_model("finance_projects", "Client").objects.create(
        name="Harbour Wind", team=team, relationship_manager=rm
    )
    project = old.get_model("finance_projects", "FinancingProject").objects.create(
        client=client,
        name="Phase 1",
        code="HW-1",
        amount=1,
        team=team,
        relationship_manager=rm,
        stage="documentation",
    )
    contact = old.get_model("finance_projects", "Contact").objects.create(client=client, name="Ann")
    transition = old.get_model("finance_projects", "StageTransition").objects.create(
        project=project, stage="credit_approval", entered_at=NOW
    )
    survey = old.get_model("feedback", "Survey").objects.get(kind="relationship")
    invitation = old.get_model("feedback", "SurveyInvitation")

    def invite(trigger, reason, **extra):
        return invitation.objects.create(
            project=project,
            contact=contact,
            survey=survey,
            trigger=trigger,
            reason=reason,
            stage="documentation",
            expires_at=NOW + timedelta(days=30),
            **extra,
        )

    milestone = invite(
        "milestone", "项目进入了“信贷审批”阶段。", dedupe_key=f"milestone:{transition.pk}:{contact.pk}"
    )
    recovery = invite("recovery", "Recovery survey after complaint CP-2026-000042")
    unreadable = invite("recovery", "After the complaint about the fees")
    manual = invite("manual", "您上周提到的提款安排，想听听您的意见。")

    new = _migrate_to([("feedback", "0006_invitation_reason_params")])
    rows = {
        row["pk"]: (row["reason"], row["reason_params"])
        for row in new.get_model("feedback", "SurveyInvitation").objects.values(
            "pk", "reason", "reason_params"
        )
    }

    assert rows[milestone.pk] == ("", {"stage": "credit_approval"})
    assert rows[recovery.pk] == ("", {"complaint": "CP-2026-000042"})
    assert rows[unreadable.pk] == ("After the complaint about the fees", {})
    assert rows[manual.pk] == ("您上周提到的提款安排，想听听您的意见。", {})

    back = _migrate_to([("feedback", "0005_contact_request_option")])
    reasons = dict(back.get_model("feedback", "SurveyInvitation").objects.values_list("pk", "reason"))
    assert reasons[milestone.pk] == "The project entered the stage “credit_approval”."
    assert reasons[recovery.pk] == "Recovery survey after complaint CP-2026-000042"
    assert reasons[manual.pk] == "您上周提到的提款安排，想听听您的意见。"
    call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_every_existing_follow_up_becomes_the_first_entry_of_its_responses_history():
    old = _migrate_to([("feedback", "0008_skip_reason_survey_empty")])
    team = old.get_model("accounts", "Team").objects.create(name="Energy")
    users = old.get_model("accounts", "User").objects
    rm = users.create(username="rm-before", team=team)
    deleted = users.create(username="left-the-bank", team=team)
    client = old.get_model("finance_projects", "Client").objects.create(
        name="Harbour Wind", team=team, relationship_manager=rm
    )
    project = old.get_model("finance_projects", "FinancingProject").objects.create(
        client=client, name="Phase 1", code="HW-1", amount=1, team=team, relationship_manager=rm
    )
    contact = old.get_model("finance_projects", "Contact").objects.create(client=client, name="Ann")
    survey = old.get_model("feedback", "Survey").objects.get(kind="relationship")
    invitations = old.get_model("feedback", "SurveyInvitation").objects
    responses = old.get_model("feedback", "SurveyResponse").objects

    def answered(**follow_up):
        invitation = invitations.create(
            project=project,
            contact=contact,
            survey=survey,
            trigger="manual",
            stage="inquiry",
            expires_at=NOW + timedelta(days=30),
        )
        return responses.create(
            invitation=invitation, submitted_at=NOW, nps=3, is_detractor=True, **follow_up
        )

    called = answered(followed_up_at=NOW + timedelta(hours=5), followed_up_by=rm, follow_up_outcome="Called.")
    by_someone_gone = answered(
        followed_up_at=NOW + timedelta(hours=7), followed_up_by=deleted, follow_up_outcome="Visited."
    )
    deleted.delete()  # SET_NULL: the follow-up stays, its author is unknown
    waiting = answered()

    new = _migrate_to([("feedback", "0009_survey_follow_up_history")])
    rows = list(
        new.get_model("feedback", "SurveyFollowUp")
        .objects.order_by("response_id")
        .values_list("response_id", "contacted_at", "by_id", "outcome", "recorded_at")
    )

    assert rows == [
        (called.pk, NOW + timedelta(hours=5), rm.pk, "Called.", NOW + timedelta(hours=5)),
        (by_someone_gone.pk, NOW + timedelta(hours=7), None, "Visited.", NOW + timedelta(hours=7)),
    ]
    assert waiting.pk not in {row[0] for row in rows}
    call_command("migrate", verbosity=0)
