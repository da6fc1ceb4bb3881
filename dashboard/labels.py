"""Names of the KPIs as shown on pages, charts and exports."""

from django.utils.translation import gettext_lazy as _

KPI_LABELS = {
    "on_time_update_rate": _("On-time client updates"),
    "promise_kept_rate": _("Promises kept"),
    "missed_commitments": _("Missed commitments"),
    "complaint_ack_rate": _("Complaints acknowledged in time"),
    "complaint_resolution_rate": _("Complaints resolved in time"),
    "avg_resolution_hours": _("Average resolution time (hours)"),
    "nps": _("NPS"),
    "csat": _("CSAT (share satisfied)"),
    "response_rate": _("Survey response rate"),
}
# "%" for rates, "" for counts and scores; also tells the page whether a rise is good news.
KPI_UNITS = {
    "on_time_update_rate": "%",
    "promise_kept_rate": "%",
    "missed_commitments": "",
    "complaint_ack_rate": "%",
    "complaint_resolution_rate": "%",
    "avg_resolution_hours": "h",
    "nps": "",
    "csat": "%",
    "response_rate": "%",
}
# KPIs where a lower number is better.
LOWER_IS_BETTER = {"missed_commitments", "avg_resolution_hours"}
