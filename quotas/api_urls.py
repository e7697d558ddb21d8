from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from quotas import api

app_name = "api"
urlpatterns = [
    path("v1/attainment/", api.attainment_list, name="attainment"),
    path("v1/candidates/", api.candidates_list, name="candidates"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
