from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("dang-nhap/", auth_views.LoginView.as_view(), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("doi-mat-khau/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("doi-mat-khau/xong/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("to-chuc/", include("orgs.urls")),
    path("quan-tri/", admin.site.urls),
]

# Feature apps register their URLs here as they land (each module exposes `urlpatterns`, `app_name`).
for prefix, module in [
    ("ho-so/", "recruitment.urls"),
    ("chi-tieu/", "quotas.urls"),
    ("bao-cao/", "reports.urls"),
    ("api/", "quotas.api_urls"),
    ("nhat-ky/", "core.urls"),
]:
    try:
        __import__(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        continue
    urlpatterns.append(path(prefix, include(module)))

admin.site.site_header = "Quản trị hệ thống phát triển đảng viên"
