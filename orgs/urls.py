from django.urls import path

from orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<int:org_id>/", views.org_detail, name="detail"),
    path("<int:org_id>/them/", views.org_add_child, name="add_child"),
    path("<int:org_id>/sua/", views.org_edit, name="edit"),
    path("<int:org_id>/chuyen/", views.org_move_view, name="move"),
    path("<int:org_id>/sap-nhap/", views.org_merge_view, name="merge"),
    path("<int:org_id>/dang-vien-dau-nam/", views.org_members_start, name="members_start"),
    path("<int:org_id>/nguoi-dung/them/", views.user_add, name="user_add"),
]
