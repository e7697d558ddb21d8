from core.text import fold, mask_cccd


def test_fold_ignores_diacritics_and_d_bar():
    assert fold("Nguyễn Đức Thắng") == "nguyen duc thang"
    assert "nguyen" in fold("NGUYỄN")


def test_mask_cccd_keeps_last_four():
    assert mask_cccd("022195001234") == "••••••••1234"
    assert mask_cccd(None) == ""
