from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle


class TokenView(ObtainAuthToken):
    """POST username + password, get `{"token": ...}`; rate-limited per client address."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"


URLPATTERNS = [path("auth/token/", TokenView.as_view(), name="api-token")]
