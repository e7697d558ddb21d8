from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.documents, name="documents"),
    path("van-ban/<int:job_id>/", views.job_status, name="job_status"),
    path("van-ban/<int:job_id>/tai-ve/", views.download, name="download"),
    path("nhap/", views.import_page, name="import"),
    path("nhap/mau.xlsx", views.import_template, name="import_template"),
    path("nhap/<int:job_id>/", views.import_status, name="import_status"),
    path("nhap/<int:job_id>/loi.xlsx", views.import_marked, name="import_marked"),
    path("danh-sach.xlsx", views.candidates_export, name="candidates_xlsx"),
]
