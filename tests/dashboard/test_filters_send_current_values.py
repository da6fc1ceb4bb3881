"""A filter form sends exactly its current values: it goes to the page's own address (not the
current one with its query, which htmx and the browser would send again before the form's), and
carries the page's other parameters (the period, the other list's page...) once each, as hidden
fields. Unticking a box then drops its filter, and parameters never pile up."""

from html.parser import HTMLParser

import pytest

from tests.factories import InvitationFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db


class Forms(HTMLParser):
    """The page's forms: their attributes and the (name, value) of the hidden inputs they send,
    those inside them and those tied to them by a `form` attribute."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None
        self._tied: list[tuple[str, str, str]] = []
        self.feed(html)
        by_id = {form["attrs"].get("id"): form for form in self.forms if form["attrs"].get("id")}
        for form_id, name, value in self._tied:
            by_id[form_id]["hidden"].append((name, value))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._open = {"attrs": attrs, "hidden": [], "fields": []}
            self.forms.append(self._open)
        elif tag in ("input", "select") and attrs.get("name"):
            if attrs.get("form"):
                if attrs.get("type") == "hidden":
                    self._tied.append((attrs["form"], attrs["name"], attrs.get("value", "")))
            elif self._open is not None:
                if attrs.get("type") == "hidden":
                    self._open["hidden"].append((attrs["name"], attrs.get("value", "")))
                else:
                    self._open["fields"].append(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None

    def with_field(self, name: str) -> dict:
        (form,) = [form for form in self.forms if name in form["fields"]]
        return form


def forms_of(page, url: str, **headers) -> Forms:
    response = page.get(url, HTTP_ACCEPT_LANGUAGE="en", **headers)
    assert response.status_code == 200
    return Forms(response.content.decode())


# --- The survey responses page -----------------------------------------------------------------


def test_the_responses_filter_goes_to_the_page_without_the_query_it_was_opened_with(browser, owner, project):
    invitation = InvitationFactory(project=project)
    SurveyResponseFactory(invitation=invitation, nps=3, is_detractor=True)

    # The address the old form left after ticking "Detractors only".
    page = forms_of(browser(owner), "/responses/?q=&category=&detractor=1&q=&category=")

    form = page.with_field("detractor")
    assert form["attrs"]["action"] == "/responses/"
    assert form["attrs"]["hx-get"] == "/responses/"
    assert form["hidden"] == []  # its own fields are not sent again beside it


def test_the_responses_filter_keeps_a_parameter_it_does_not_own_once_and_drops_the_page(browser, owner):
    page = forms_of(browser(owner), "/responses/?detractor=1&page=3&lang=en&lang=en")

    assert page.with_field("detractor")["hidden"] == [("lang", "en")]


# --- The portfolio and the period --------------------------------------------------------------


def test_the_team_portfolio_filter_keeps_the_period_and_the_alert_page_once(browser, manager, project):
    url = "/team/?days=90&rm=4&q=&rm=&page=2&alerts_page=2&days=90&sort=-client"

    form = forms_of(browser(manager), url).with_field("rm")

    assert form["attrs"]["action"] == "/team/"
    assert form["attrs"]["hx-get"] == "/team/"
    assert sorted(form["hidden"]) == [("alerts_page", "2"), ("days", "90"), ("sort", "-client")]


def test_the_home_portfolio_filter_keeps_the_alert_list_shown_once(browser, owner, project):
    form = forms_of(browser(owner), "/?alerts=snoozed&q=wind&alerts=snoozed&page=2").with_field("q")

    assert form["attrs"]["action"] == "/"
    assert form["attrs"]["hx-get"] == "/"
    assert sorted(form["hidden"]) == [("alerts", "snoozed"), ("sort", "health")]


def test_the_period_form_keeps_the_portfolio_filters_once_but_not_the_old_period(browser, manager, project):
    form = forms_of(browser(manager), "/team/?days=7&stage=term_sheet&days=90&stage=term_sheet").with_field(
        "days"
    )

    assert form["attrs"]["action"] == "/team/"
    assert form["hidden"] == [("stage", "term_sheet")]


def test_a_sort_is_drawn_with_the_table_so_the_next_filter_keeps_it(browser, owner, project):
    page = browser(owner)
    table = page.get("/", {"sort": "-client"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="portfolio")
    form = forms_of(page, "/?sort=-client").with_field("q")

    assert (
        '<input type="hidden" name="sort" form="portfolio-filters" value="-client">' in table.content.decode()
    )
    assert form["attrs"]["id"] == "portfolio-filters"


def test_a_team_portfolio_change_redraws_the_filters_the_period_form_keeps(browser, manager, owner):
    body = (
        browser(manager)
        .get(
            "/team/", {"days": "90", "rm": str(owner.pk)}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="portfolio"
        )
        .content.decode()
    )

    kept = body[body.index('<span id="period-kept" hx-swap-oob="true">') :]
    kept = kept[: kept.index("</span>")]
    assert f'<input type="hidden" name="rm" value="{owner.pk}">' in kept
    assert 'name="days"' not in kept


def test_the_home_portfolio_redrawn_has_no_period_form_to_update(browser, owner, project):
    body = (
        browser(owner)
        .get("/", {"q": "x"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="portfolio")
        .content.decode()
    )

    assert "period-kept" not in body
