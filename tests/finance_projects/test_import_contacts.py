"""Bulk import of contacts: the clients' people, under the rules of the contacts API (a client in
the importer's scope, a valid e-mail no other contact of that client has), every bad row reported
with its line, and offered wherever the other kinds are."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from finance_projects.imports import import_job_create, import_job_run, template_csv
from finance_projects.models import Contact, ImportStatus
from tests.factories import ClientFactory, ProjectFactory


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


def run(user, text, *, import_valid_rows=False):
    job = import_job_create(
        kind="contacts",
        filename="contacts.csv",
        content=text.encode(),
        created_by=user,
        import_valid_rows=import_valid_rows,
    )
    return import_job_run(job_id=job.pk)


def csv_file(text):
    return SimpleUploadedFile("contacts.csv", text.encode(), content_type="text/csv")


def problems(job):
    return [(entry["line"], entry["column"]) for entry in job.errors]


def messages(job):
    return [entry["message"] for entry in job.errors]


def test_a_good_contact_file_imports_every_row_with_its_details(owner, client_org):
    text = (
        "client,name,email,title,phone,language\n"
        f"{client_org.name},王芳,wang.fang@client.example,财务总监,+86 10 1234 5678,zh-hans\n"
        f"{client_org.name},Grace Ho,grace.ho@client.example,CFO,,EN\n"
        f"{client_org.name},Zhang Wei,zhang.wei@client.example,,,\n"
    )

    job = run(owner, text)

    assert job.status == ImportStatus.DONE, job.errors
    assert (job.total, job.imported, job.errors) == (3, 3, [])
    stored = {
        c.email: (c.client, c.name, c.title, c.phone, c.language, c.opted_out)
        for c in Contact.objects.filter(client=client_org)
    }
    assert stored == {
        "wang.fang@client.example": (client_org, "王芳", "财务总监", "+86 10 1234 5678", "zh-hans", False),
        "grace.ho@client.example": (client_org, "Grace Ho", "CFO", "", "en", False),
        "zhang.wei@client.example": (client_org, "Zhang Wei", "", "", "zh-hans", False),  # the default
    }


def test_every_contact_rule_is_reported_on_its_line_and_column_and_nothing_is_imported(
    owner, client_org, contact, outsider
):
    foreign = ClientFactory(name="Far Away Co", relationship_manager=outsider, team=outsider.team)
    long_phone = "1" * 41
    text = (
        "client,name,email,title,phone,language\n"  # 1
        f"{client_org.name},Good One,good.one@client.example,,,\n"  # 2: good
        f"{client_org.name},,nameless@client.example,,,\n"  # 3: no name
        f"{client_org.name},Bad Mail,not-an-email,,,\n"  # 4: not an e-mail
        f"{client_org.name},No Mail,,,,\n"  # 5: no e-mail
        f"{client_org.name},Twin,{contact.email.upper()},,,\n"  # 6: the client has it already
        f"{client_org.name},Again,GOOD.ONE@client.example,,,\n"  # 7: repeats line 2
        f"{client_org.name},French,fr@client.example,,,fr\n"  # 8: language
        f"{client_org.name},Long,long@client.example,,{long_phone},\n"  # 9: phone too long
        f"Nobody Ltd,Unknown,u@client.example,,,\n"  # 10: no such client
        f"{foreign.name},Foreign,f@client.example,,,\n"  # 11: another team's client
        f",Clientless,c@client.example,,,\n"  # 12: no client
        f"{client_org.name},Nul\x00Byte,nul@client.example,,,\n"  # 13: a NUL character in the name
    )

    job = run(owner, text)

    assert job.status == ImportStatus.REJECTED
    assert problems(job) == [
        (3, "name"),
        (4, "email"),
        (5, "email"),
        (6, "email"),
        (7, "email"),
        (8, "language"),
        (9, "phone"),
        (10, "client"),
        (11, "client"),
        (12, "client"),
        (13, "name"),
    ]
    assert messages(job)[3] == "This client already has a contact with this email."
    assert messages(job)[4] == "This client has a contact with this email earlier in the file."
    assert messages(job)[8] == "No client named “Far Away Co” in your scope."
    assert list(Contact.objects.values_list("pk", flat=True)) == [contact.pk]


def test_the_same_email_may_belong_to_contacts_of_two_clients(owner, client_org, contact):
    other = ClientFactory(name="Second Client Co", relationship_manager=owner, team=owner.team)
    text = (
        "client,name,email\n"
        f"{other.name},Shared Mailbox,{contact.email}\n"
        f"{other.name},Grace Ho,grace@client.example\n"
        f"{client_org.name},Grace Ho,grace@client.example\n"
    )

    job = run(owner, text)

    assert job.status == ImportStatus.DONE, job.errors
    assert Contact.objects.filter(client=other).count() == 2


def test_the_good_contacts_alone_are_imported_when_the_user_asks_for_it(owner, client_org):
    text = f"client,name,email\n{client_org.name},Good,good@client.example\n{client_org.name},Bad,bad\n"

    job = run(owner, text, import_valid_rows=True)

    assert (job.status, job.imported, problems(job)) == (ImportStatus.DONE, 1, [(3, "email")])
    assert list(Contact.objects.values_list("name", flat=True)) == ["Good"]


def test_a_bad_row_does_not_take_its_email_from_a_good_row_after_it(owner, client_org):
    long_name = "N" * 201
    text = (
        f"client,name,email\n{client_org.name},{long_name},same@client.example\n"
        f"{client_org.name},Good,same@client.example\n"
    )

    job = run(owner, text, import_valid_rows=True)

    assert (job.imported, problems(job)) == (1, [(2, "name")])
    assert list(Contact.objects.values_list("name", flat=True)) == ["Good"]


def test_a_client_named_alike_in_two_teams_is_ambiguous_for_an_admin(admin_user, client_org, outsider):
    ClientFactory(name=client_org.name, relationship_manager=outsider, team=outsider.team)

    job = run(admin_user, f"client,name,email\n{client_org.name},X,x@client.example\n")

    assert problems(job) == [(2, "client")]
    assert messages(job) == ["Several teams have a client with this name."]


# --- scope: exactly the clients the contacts API lets the importer add a contact to --------


@pytest.fixture
def clients_around(owner, teammate, outsider, client_org):
    """The owner's client; a teammate's client where the owner manages a project; a teammate's
    client the owner has nothing to do with; another team's client."""
    shared = ClientFactory(name="Shared Project Co", relationship_manager=teammate, team=teammate.team)
    ProjectFactory(client=shared, relationship_manager=owner)
    return {
        "own": client_org,
        "shared": shared,
        "teammates": ClientFactory(name="Teammate Co", relationship_manager=teammate, team=teammate.team),
        "foreign": ClientFactory(name="Foreign Co", relationship_manager=outsider, team=outsider.team),
    }


EXPECTED_SCOPE = {
    "owner": {"own", "shared"},  # a teammate's client too, through the project the owner manages
    "teammate": {"shared", "teammates"},
    "manager": {"own", "shared", "teammates"},
    "outsider": {"foreign"},
    "admin_user": {"own", "shared", "teammates", "foreign"},
}


@pytest.mark.parametrize("who", list(EXPECTED_SCOPE))
def test_an_importer_adds_contacts_to_exactly_the_clients_the_api_lets_them(
    request, api_as, clients_around, who
):
    user = request.getfixturevalue(who)
    by_api = set()
    for key, client in clients_around.items():
        response = api_as(user).post(
            "/api/v1/contacts/",
            {"client": client.pk, "name": "By Hand", "email": f"hand.{key}@client.example"},
            format="json",
        )
        if response.status_code == 201:
            by_api.add(key)
    rows = "".join(f"{c.name},By File,file.{key}@client.example\n" for key, c in clients_around.items())

    job = run(user, f"client,name,email\n{rows}", import_valid_rows=True)

    by_import = {key for key, c in clients_around.items() if c.contacts.filter(name="By File").exists()}
    assert by_import == by_api == EXPECTED_SCOPE[who]
    assert job.imported == len(by_api)


def test_department_staff_may_not_import_contacts(department_user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_job_create(
            kind="contacts", filename="c.csv", content=b"client,name,email\n", created_by=department_user
        )


# --- reading and writing in batches -------------------------------------------------------


def test_the_contact_import_reads_and_writes_in_batches_not_row_by_row(
    owner, client_org, contact, django_assert_max_num_queries
):
    rows = "".join(f"{client_org.name},Person {n},person{n}@client.example,,,en\n" for n in range(300))
    content = f"client,name,email,title,phone,language\n{rows}".encode()
    job = import_job_create(kind="contacts", filename="c.csv", content=content, created_by=owner)
    # Eleven for the job and the look-ups (the clients' existing e-mails in one query), then one
    # INSERT per batch (SQLite caps a batch at 999 parameters, so 124 contacts; PostgreSQL takes
    # 1,000 rows a statement).
    with django_assert_max_num_queries(14):
        job = import_job_run(job_id=job.pk)

    assert job.imported == 300
    assert Contact.objects.filter(client=client_org).count() == 301


# --- offered wherever the other kinds are --------------------------------------------------


def test_the_contact_template_lists_required_columns_first():
    assert template_csv("contacts").strip() == "client,name,email,title,phone,language"


def test_the_import_page_offers_contacts(client, owner):
    client.force_login(owner)

    response = client.get("/imports/?kind=contacts")

    assert response.context["form"].initial["kind"] == "contacts"
    page = response.content.decode()
    assert '<option value="contacts" selected>' in page
    assert "/imports/templates/contacts.csv" in page
    sample = client.get("/imports/templates/contacts.csv")
    assert sample.content.decode().strip() == "client,name,email,title,phone,language"


def test_contacts_upload_from_the_page(client, owner, client_org):
    client.force_login(owner)
    file = csv_file(f"client,name,email\n{client_org.name},Page Person,p@client.example\n")

    client.post("/imports/", {"kind": "contacts", "file": file})

    assert Contact.objects.filter(client=client_org, name="Page Person").exists()


def test_the_api_imports_contacts(api_as, owner, client_org):
    file = csv_file(f"client,name,email\n{client_org.name},Api Person,a@client.example\n")

    response = api_as(owner).post("/api/v1/imports/", {"kind": "contacts", "file": file}, format="multipart")

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["imported"]) == ("contacts", 1)


def test_the_contacts_admin_links_to_the_contact_import(client, admin_user):
    client.force_login(admin_user)

    page = client.get("/admin/finance_projects/contact/").content.decode()

    assert "/imports/?kind=contacts" in page
