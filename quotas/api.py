"""Read-only JSON API (shared/spec/interfaces.md). Scoped to the caller's subtree; outside it answers 404."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from core.audit import audit
from orgs.models import OrgUnit
from orgs.selectors import get_org_for_user
from quotas.selectors import attainment_rows


class CountsField(serializers.DictField):
    child = serializers.IntegerField()


class ByGroupSerializer(serializers.Serializer):
    sector = CountsField(help_text="Kết nạp theo loại hình tổ chức (mã loại hình → số người)")
    gender = CountsField(help_text="Theo giới tính: nam, nu")
    age_band = CountsField(help_text="Theo độ tuổi tại ngày quyết định: 18-30, 31-35, …, 56-60, tren_60")
    education = CountsField(help_text="Theo trình độ học vấn")
    occupation_group = CountsField(help_text="Theo nhóm nghề nghiệp")
    youth_union = serializers.IntegerField(help_text="Đoàn viên thanh niên")
    ethnic_minority = serializers.IntegerField(help_text="Người dân tộc thiểu số")
    religion = serializers.IntegerField(help_text="Người có đạo")


class AttainmentSerializer(serializers.Serializer):
    org = serializers.CharField(help_text="Mã tổ chức")
    name = serializers.CharField()
    members_start_of_year = serializers.IntegerField()
    quota = serializers.IntegerField(help_text="Chỉ tiêu kết nạp")
    allocated_to_children = serializers.IntegerField()
    admitted = serializers.IntegerField(help_text="Số kết nạp trong năm (ngày quyết định trong năm)")
    quota_pct = serializers.FloatField(allow_null=True)
    rate_pct_of_members = serializers.FloatField(allow_null=True)
    recognized = serializers.IntegerField()
    sources = serializers.IntegerField()
    by_group = ByGroupSerializer()


class CandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person_code = serializers.CharField(source="person.code")
    full_name = serializers.CharField(source="person.full_name")
    org = serializers.CharField(source="org.code", help_text="Mã chi bộ")
    org_name = serializers.CharField(source="org.name")
    stage = serializers.CharField()
    stage_label = serializers.CharField(source="get_stage_display")
    source_date = serializers.DateField(allow_null=True)
    sympathiser_date = serializers.DateField(allow_null=True)
    certificate_date = serializers.DateField(allow_null=True)
    branch_resolution_date = serializers.DateField(allow_null=True)
    decision_date = serializers.DateField(allow_null=True)
    ceremony_date = serializers.DateField(allow_null=True)
    recognition_date = serializers.DateField(allow_null=True)
    exit_date = serializers.DateField(allow_null=True)


def _org_param(request: Request) -> OrgUnit:
    code = request.query_params.get("org")
    if code:
        return get_org_for_user(request.user, code=code)
    if request.user.org_id:
        return get_org_for_user(request.user, pk=request.user.org_id)
    root = OrgUnit.objects.filter(depth=1).order_by("path").first()
    if root is None or not request.user.is_superuser:
        raise Http404("Không tìm thấy tổ chức")
    return root


def _year_param(request: Request) -> int:
    raw = request.query_params.get("year")
    if not raw:
        return dt.date.today().year
    try:
        year = int(raw)
    except ValueError:
        raise ValidationError({"year": "Năm không hợp lệ."}) from None
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "Năm không hợp lệ."})
    return year


ORG_PARAM = OpenApiParameter("org", OpenApiTypes.STR, description="Mã tổ chức (mặc định: tổ chức của người dùng)")


@extend_schema(
    operation_id="attainment_list",
    summary="Kết quả phát triển đảng viên của mọi tổ chức trong cây con",
    parameters=[OpenApiParameter("year", OpenApiTypes.INT, description="Năm (mặc định: năm nay)"), ORG_PARAM],
    responses=AttainmentSerializer(many=True),
)
@api_view(["GET"])
def attainment_list(request: Request) -> Response:
    org = _org_param(request)
    year = _year_param(request)
    rows = attainment_rows(root=org, year=year, depth=None)
    # as_api() already has exactly the serializer's fields and types; the serializer describes them for the
    # schema, and running it over a province's thousands of rows would only cost time.
    return Response([row.as_api() for row in rows])


class CandidatePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema(
    operation_id="candidates_list",
    summary="Hồ sơ phát triển đảng viên trong cây con, phân trang",
    parameters=[
        ORG_PARAM,
        OpenApiParameter("stage", OpenApiTypes.STR, description="Mã giai đoạn (vd. cam_tinh, nq_chi_bo, du_bi)"),
        OpenApiParameter("page", OpenApiTypes.INT),
        OpenApiParameter("page_size", OpenApiTypes.INT),
    ],
    responses=CandidateSerializer(many=True),
)
@api_view(["GET"])
def candidates_list(request: Request) -> Response:
    from recruitment.models import Candidate, Stage

    org = _org_param(request)
    qs = (
        Candidate.objects.filter(org__path__startswith=org.path)
        .select_related("person", "org")
        .order_by("org__path", "person__name_folded", "pk")
    )
    stage = request.query_params.get("stage")
    if stage:
        if stage not in Stage.values:
            raise ValidationError({"stage": f"Giai đoạn không hợp lệ: {stage}"})
        qs = qs.filter(stage=stage)
    paginator = CandidatePagination()
    page = paginator.paginate_queryset(qs, request)
    audit(
        action="api.candidates",
        actor=request.user,
        org=org,
        request=request._request,
        detail={"stage": stage or "", "page": request.query_params.get("page", "1"), "count": len(page)},
    )
    return paginator.get_paginated_response(CandidateSerializer(page, many=True).data)


# drf-spectacular wraps the paginated list itself when the view declares a paginator class.
candidates_list.cls.pagination_class = CandidatePagination
