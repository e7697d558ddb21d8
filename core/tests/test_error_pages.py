from django.test import override_settings
from django.urls import reverse


@override_settings(DEBUG=False)
def test_a_page_outside_the_subtree_answers_404_in_vietnamese(world, client_for):
    response = client_for(world.persona("staff_branch")).get(reverse("orgs:detail", kwargs={"org_id": world.sibling.pk}))
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.content.decode()


@override_settings(DEBUG=False)
def test_a_forbidden_write_answers_403_in_vietnamese_with_the_reason(world, client_for):
    response = client_for(world.persona("staff_branch")).get(reverse("orgs:edit", kwargs={"org_id": world.branch.pk}))
    html = response.content.decode()
    assert response.status_code == 403
    assert "Không có quyền truy cập" in html and "Chỉ Ban Tổ chức" in html


def test_the_500_page_needs_no_context():
    from django.template.loader import render_to_string

    assert "Hệ thống gặp lỗi" in render_to_string("500.html")
