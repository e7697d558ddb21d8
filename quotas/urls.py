from django.urls import path

from quotas import views

app_name = "quotas"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("to-chuc/<int:org_id>/", views.dashboard_org, name="dashboard_org"),
    path("phan-bo/", views.allocation, name="allocation"),
    path("phan-bo/<int:org_id>/", views.allocation_org, name="allocation_org"),
    path("phan-bo/<int:org_id>/sua/", views.quota_edit, name="quota_edit"),
]
