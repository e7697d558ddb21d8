from django.urls import path

from recruitment import views

app_name = "recruitment"
urlpatterns = [
    path("", views.candidate_list_view, name="candidate_list"),
    path("them/", views.candidate_create_view, name="candidate_create"),
    path("bang-tien-trinh/", views.board_view, name="board"),
    path("den-han/", views.due_view, name="due"),
    path("to-chuc/", views.org_search_view, name="org_search"),
    path("lop/", views.class_list_view, name="class_list"),
    path("lop/mo/", views.class_create, name="class_create"),
    path("lop/<int:class_id>/", views.class_detail, name="class_detail"),
    path("lop/<int:class_id>/ghi-danh/", views.class_enrol, name="class_enrol"),
    path("lop/<int:class_id>/ket-qua/", views.class_results, name="class_results"),
    path("<int:person_id>/", views.person_detail, name="person_detail"),
    path("<int:person_id>/sua/", views.person_edit, name="person_edit"),
    path("<int:person_id>/buoc-tiep/", views.step_view, name="step"),
    path("<int:person_id>/buoc-tiep/kiem-tra/", views.step_preview, name="step_preview"),
    path("<int:person_id>/ra-khoi-danh-sach/", views.exit_view, name="exit"),
    path("<int:person_id>/nguoi-gioi-thieu/", views.introducer_add, name="introducer_add"),
]
