"""The project page's touchpoint form offers the channels a person logs by hand: a concern the
client raised and a survey response's follow-up are recorded where they happen."""

from dashboard.forms import TouchpointForm
from finance_projects.models import TouchpointChannel


def test_the_touchpoint_form_leaves_out_the_channels_recorded_elsewhere():
    offered = {value for value, _label in TouchpointForm().fields["channel"].choices}

    assert TouchpointChannel.SURVEY_FOLLOW_UP not in offered
    assert TouchpointChannel.CLIENT_CONCERN not in offered
    assert {TouchpointChannel.CALL, TouchpointChannel.MEETING, TouchpointChannel.EMAIL} <= offered
