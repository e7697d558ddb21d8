import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("persona", ["board_city", "staff_branch", "training_city", "viewer_city"])
def test_each_role_logs_in_and_sees_only_its_tree(persona, world, page, login, shot):
    user = world.persona(persona)
    login(page, user)
    page.goto("/to-chuc/")
    page.click("#expand-all")
    text = page.inner_text("#org-tree")
    assert user.org.name in text
    assert "Thành ủy Khác" not in text
    shot(page, "tree")


def test_wrong_password_shows_vietnamese_error(world, page, shot):
    page.goto("/dang-nhap/")
    page.fill("input[name=username]", "t.btc.thanhpho")
    page.fill("input[name=password]", "sai-mat-khau-roi")
    page.click("button[type=submit]")
    assert "mật khẩu chính xác" in page.content()
    assert page.input_value("input[name=username]") == "t.btc.thanhpho"
    shot(page, "login-error")
