"""What the plan and the results report say. Every figure comes from quotas.selectors (the one attainment
selector the dashboard and the API read too); this module only arranges them into a Document."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from members.models import Education, Gender, OccupationGroup
from orgs.models import HOLDS_PEOPLE_Q, Kind, OrgUnit, Sector
from orgs.selectors import ancestors
from quotas.selectors import attainment_for, attainment_rows, attainment_trend, dashboard_flags, pct
from reports.documents import Document, Header, Para, Table, fmt_int, fmt_pct

KINDS = {"plan": "Kế hoạch kết nạp đảng viên", "results": "Báo cáo kết quả công tác phát triển đảng viên"}
TREND_YEARS = 4  # the results report looks back over this many years, the report year included

# "Tỉnh ủy Quảng Ninh" is the committee of "Đảng bộ tỉnh Quảng Ninh": (committee prefix, party-organisation prefix,
# number suffix, place is the rest of the name).
COMMITTEE_PREFIXES = [
    ("Tỉnh ủy ", "Đảng bộ tỉnh ", "TU"),
    ("Thành ủy ", "Đảng bộ thành phố ", "TU"),
    ("Thị ủy ", "Đảng bộ thị xã ", "TU"),
    ("Huyện ủy ", "Đảng bộ huyện ", "HU"),
    ("Đảng ủy Khối ", "Đảng bộ Khối ", "ĐUK"),
    ("Đảng ủy ", "Đảng bộ ", "ĐU"),
]


def _strip_prefix(name: str) -> tuple[str, str, str] | None:
    for committee, party, suffix in COMMITTEE_PREFIXES:
        if name.startswith(committee):
            return committee, party, suffix
    return None


def party_org_name(org: OrgUnit) -> str:
    """The party organisation an org's committee leads: "Thành ủy Uông Bí" -> "Đảng bộ thành phố Uông Bí"."""
    found = _strip_prefix(org.name)
    if found:
        committee, party, _ = found
        return party + org.name[len(committee):]
    return org.name


def issuer_name(org: OrgUnit) -> str:
    """The committee that signs: "Đảng bộ phường Quang Trung" is signed by "Đảng ủy phường Quang Trung"."""
    if org.name.startswith("Đảng bộ "):
        return "Đảng ủy " + org.name[len("Đảng bộ "):]
    return org.name


def place_of(org: OrgUnit) -> str:
    """The place on the date line: the town of the nearest upper committee (or the province)."""
    for node in [org, *reversed(list(ancestors(org)))]:
        if node.kind in (Kind.UPPER, Kind.PROVINCE):
            found = _strip_prefix(node.name)
            if found:
                return node.name[len(found[0]):]
    return ""


def number_suffix(org: OrgUnit) -> str:
    found = _strip_prefix(issuer_name(org))
    if found:
        return found[2]
    return "CB" if org.name.startswith("Chi bộ") else "ĐU"


def vn_upper(text: str) -> str:
    return text.upper()


def date_line(place: str, on: dt.date) -> str:
    day = f"{on.day:02d}" if on.day < 10 else str(on.day)
    month = f"{on.month:02d}" if on.month < 3 else str(on.month)  # 36-HD: 01, 02 for Jan/Feb; day below 10 with 0
    return f"{place + ', ' if place else ''}ngày {day} tháng {month} năm {on.year}"


def header_for(org: OrgUnit, *, doc_code: str, on: dt.date) -> Header:
    parent = OrgUnit.objects.get_parent(org)
    return Header(
        superior=vn_upper(party_org_name(parent)) if parent is not None else "",
        issuer=vn_upper(issuer_name(org)),
        number=f"Số:      -{doc_code}/{number_suffix(org)}",
        place_date=date_line(place_of(org), on),
    )


def signature_for(org: OrgUnit) -> tuple[str, str]:
    if org.kind in (Kind.PROVINCE, Kind.UPPER):
        return "T/M BAN THƯỜNG VỤ", "BÍ THƯ"
    if org.name.startswith("Chi bộ"):
        return "T/M CHI BỘ", "BÍ THƯ"
    return "T/M ĐẢNG ỦY", "BÍ THƯ"


def recipients_for(org: OrgUnit) -> list[str]:
    parent = OrgUnit.objects.get_parent(org)
    lines = []
    if parent is not None:
        lines.append(f"- Ban Thường vụ {issuer_name(parent)} (b/c),")
        lines.append(f"- Ban Tổ chức {issuer_name(parent)} (b/c),")
    if org.numchild:
        lines.append("- Các chi, đảng bộ trực thuộc,")
    lines.append("- Lưu: VP, BTC.")
    return lines


def _sector_label(value: str) -> str:
    try:
        return str(Sector(value).label)
    except ValueError:
        return value or "Chưa phân loại"


# ---------------------------------------------------------------------------------------------------------
# Results report


def _sector_table(org: OrgUnit, years: list[int]) -> Table:
    per_year = {year: attainment_for(org=org, year=year) for year in years}
    sectors = [s.value for s in Sector]
    extra = sorted({k for row in per_year.values() for k in row.by_group.get("sector", {}) if k not in sectors})
    rows: list[list] = []
    sector_sum = dict.fromkeys(years, 0)
    for sector in sectors + extra:
        counts = [int(per_year[y].by_group.get("sector", {}).get(sector, 0)) for y in years]
        if not any(counts):
            continue
        for y, n in zip(years, counts, strict=True):
            sector_sum[y] += n
        rows.append([_sector_label(sector), *counts, sum(counts)])
    totals = [per_year[y].admitted for y in years]
    sums = [sector_sum[y] for y in years]
    bold = set()
    rows.append(["Cộng theo loại hình", *sums, sum(sums)])
    bold.add(len(rows) - 1)
    rows.append(["Tổng số kết nạp", *totals, sum(totals)])
    bold.add(len(rows) - 1)
    gaps = [t - s for t, s in zip(totals, sums, strict=True)]
    note = ""
    if any(gaps):
        rows.append(["Chênh lệch (chưa phân theo loại hình)", *gaps, sum(gaps)])
        bold.add(len(rows) - 1)
        note = (
            "Số liệu theo loại hình cộng lại không bằng tổng số kết nạp; phần chênh lệch được ghi riêng ở dòng "
            "“Chênh lệch”, không phân bổ vào loại hình nào."
        )
    return Table(
        title=f"Biểu 2. Đảng viên mới kết nạp theo loại hình tổ chức đảng, {years[0]}–{years[-1]}",
        columns=["Loại hình", *[str(y) for y in years], "Cộng"],
        rows=rows,
        widths=[5] + [1.4] * len(years) + [1.4],
        bold_rows=bold,
        note=note,
        sheet="Theo loai hinh",
    )


def _trend_table(org: OrgUnit, years: list[int]) -> tuple[Table, list[dict]]:
    trend = attainment_trend(org=org, years=years)
    rows = [
        [str(t["year"]), t["members_start"], t["quota"], t["admitted"], t["quota_pct"], t["rate_pct_of_members"],
         t["recognized"], t["sources"]]
        for t in trend
    ]
    total_quota = sum(t["quota"] for t in trend)
    total_admitted = sum(t["admitted"] for t in trend)
    rows.append(["Cộng", None, total_quota, total_admitted, pct(total_admitted, total_quota), None,
                 sum(t["recognized"] for t in trend), sum(t["sources"] for t in trend)])
    table = Table(
        title=f"Biểu 1. Kết quả kết nạp đảng viên qua các năm, {years[0]}–{years[-1]}",
        columns=["Năm", "Đảng viên đầu năm", "Chỉ tiêu kết nạp", "Đã kết nạp", "% chỉ tiêu",
                 "% so với đảng viên đầu năm", "Công nhận chính thức", "Tạo nguồn (cảm tình Đảng)"],
        rows=rows,
        widths=[1.2, 1.6, 1.5, 1.4, 1.3, 1.6, 1.6, 1.6],
        bold_rows={len(rows) - 1},
        percent_cols={4, 5},
        sheet="Qua cac nam",
    )
    return table, trend


def _children_table(org: OrgUnit, year: int) -> Table:
    rows_in = attainment_rows(root=org, year=year, depth=1)
    me, children = rows_in[0], rows_in[1:]
    rows: list[list] = []
    for index, child in enumerate(children, start=1):
        rows.append([index, child.name, _sector_label(child.sector), child.members_start, child.quota, child.admitted,
                     child.quota_pct, child.recognized, child.sources])
    child_admitted = sum(c.admitted for c in children)
    bold = set()
    rows.append(["", f"Toàn {party_org_name(org)}", "", me.members_start, me.quota, me.admitted, me.quota_pct,
                 me.recognized, me.sources])
    bold.add(len(rows) - 1)
    note = ""
    if children and child_admitted != me.admitted:
        rows.append(["", "Chênh lệch (kết nạp ghi nhận ở tổ chức đã giải thể, sáp nhập hoặc chuyển đi)", "", None,
                     None, me.admitted - child_admitted, None, None, None])
        bold.add(len(rows) - 1)
        note = "Tổng của các tổ chức trực thuộc hiện nay khác với số của toàn đảng bộ; phần chênh lệch ghi riêng."
    return Table(
        title=f"Biểu 3. Kết quả kết nạp đảng viên năm {year} theo tổ chức trực thuộc",
        columns=["STT", "Tổ chức đảng", "Loại hình", "Đảng viên đầu năm", "Chỉ tiêu", "Đã kết nạp", "% chỉ tiêu",
                 "Công nhận chính thức", "Tạo nguồn"],
        rows=rows,
        widths=[0.7, 4.5, 2.4, 1.4, 1.1, 1.2, 1.2, 1.4, 1.2],
        bold_rows=bold,
        percent_cols={6},
        note=note,
        sheet="Theo to chuc",
    )


def _group_table(org: OrgUnit, year: int) -> Table:
    from quotas.services import AGE_BAND_LABELS

    row = attainment_for(org=org, year=year)
    groups = row.by_group
    total = row.admitted
    rows: list[list] = []
    bold = set()

    def add(label: str, n: int, heading: bool = False):
        rows.append([label, n, pct(n, total)])
        if heading:
            bold.add(len(rows) - 1)

    add("Tổng số đảng viên mới kết nạp", total, True)
    add("Nữ", int(groups.get("gender", {}).get(Gender.FEMALE, 0)))
    add("Đoàn viên Đoàn TNCS Hồ Chí Minh", int(groups.get("youth_union", 0)))
    add("Người dân tộc thiểu số", int(groups.get("ethnic_minority", 0)))
    add("Người theo tôn giáo", int(groups.get("religion", 0)))
    rows.append(["Theo độ tuổi", "", ""])
    bold.add(len(rows) - 1)
    for key, label in AGE_BAND_LABELS.items():
        n = int(groups.get("age_band", {}).get(key, 0))
        if n:
            add(f"  {label} tuổi" if key[0].isdigit() else f"  {label}", n)
    rows.append(["Theo trình độ học vấn", "", ""])
    bold.add(len(rows) - 1)
    for choice in Education:
        n = int(groups.get("education", {}).get(choice.value, 0))
        if n:
            add(f"  {choice.label}", n)
    rows.append(["Theo nghề nghiệp", "", ""])
    bold.add(len(rows) - 1)
    for choice in OccupationGroup:
        n = int(groups.get("occupation_group", {}).get(choice.value, 0))
        if n:
            add(f"  {choice.label}", n)
    return Table(
        title=f"Biểu 4. Cơ cấu đảng viên mới kết nạp năm {year}",
        columns=["Nhóm", "Số lượng", "Tỷ lệ"],
        rows=rows,
        widths=[6, 1.5, 1.5],
        bold_rows=bold,
        percent_cols={2},
        sheet="Co cau",
    )


def _courses_table(org: OrgUnit, years: list[int]) -> Table:
    from recruitment.models import AwarenessClass, ClassEnrolment

    by_year = {
        r["start_date__year"]: r
        for r in AwarenessClass.objects.filter(organiser__path__startswith=org.path, start_date__year__in=years)
        .values("start_date__year")
        .annotate(classes=Count("pk", distinct=True), enrolled=Count("enrolments", distinct=True),
                  passed=Count("enrolments", filter=Q(enrolments__result=ClassEnrolment.Result.PASSED), distinct=True))
        .order_by()
    }
    attended = dict(
        ClassEnrolment.objects.filter(candidate__org__path__startswith=org.path,
                                      awareness_class__start_date__year__in=years)
        .values_list("awareness_class__start_date__year")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = []
    for year in years:
        r = by_year.get(year, {})
        rows.append([str(year), r.get("classes", 0), r.get("enrolled", 0), r.get("passed", 0), attended.get(year, 0)])
    rows.append(["Cộng", *[sum(row[i] for row in rows) for i in range(1, 5)]])
    return Table(
        title=f"Biểu 5. Lớp bồi dưỡng nhận thức về Đảng, {years[0]}–{years[-1]}",
        columns=["Năm", "Số lớp mở", "Số học viên", "Số học viên đạt", "Quần chúng của đảng bộ đã học"],
        rows=rows,
        widths=[1.2, 1.5, 1.5, 1.5, 2.5],
        bold_rows={len(rows) - 1},
        sheet="Lop nhan thuc",
    )


def _zero_tables(org: OrgUnit, year: int) -> list[Table]:
    tables = []
    for flag in dashboard_flags(root=org, year=year):
        if flag.code not in ("R-BASE-ZERO", "R-BRANCH-STREAK"):
            continue
        rows = [[i, name, detail] for i, (_pk, name, detail) in enumerate(flag.orgs, start=1)]
        if not rows:
            rows = [["", "Không có", ""]]
        tables.append(Table(
            title=flag.title,
            columns=["STT", "Tổ chức đảng", "Ghi chú"],
            rows=rows,
            widths=[0.7, 6, 3],
            sheet="Chua ket nap" if flag.code == "R-BASE-ZERO" else "Nhieu nam khong ket nap",
        ))
    return tables


def results_document(*, org: OrgUnit, year: int, on: dt.date | None = None) -> Document:
    on = on or dt.date.today()
    years = list(range(year - TREND_YEARS + 1, year + 1))
    party = party_org_name(org)
    me = attainment_for(org=org, year=year)
    trend_table, trend = _trend_table(org, years)
    total = sum(t["admitted"] for t in trend)
    by_year = "; ".join(f"năm {t['year']}: {fmt_int(t['admitted'])}" for t in trend)
    blocks: list = [
        Para("I. KẾT QUẢ CHUNG", "heading"),
        Para(
            f"Năm {year}, {party} có {fmt_int(me.members_start)} đảng viên đầu năm; chỉ tiêu kết nạp "
            f"{fmt_int(me.quota)} đảng viên. Đã kết nạp {fmt_int(me.admitted)} đảng viên, đạt "
            f"{fmt_pct(me.quota_pct)} chỉ tiêu, bằng {fmt_pct(me.rate_pct_of_members)} số đảng viên đầu năm; "
            f"công nhận đảng viên chính thức {fmt_int(me.recognized)} đồng chí; đưa vào diện cảm tình Đảng "
            f"{fmt_int(me.sources)} quần chúng."
        ),
        Para(f"Giai đoạn {years[0]}–{years[-1]}, {party} đã kết nạp {fmt_int(total)} đảng viên mới ({by_year})."),
        trend_table,
        Para("II. KẾT QUẢ THEO LOẠI HÌNH, TỔ CHỨC VÀ CƠ CẤU", "heading"),
        _sector_table(org, years),
    ]
    if org.numchild:
        blocks.append(_children_table(org, year))
    blocks.append(_group_table(org, year))
    blocks += [
        Para("III. CÔNG TÁC BỒI DƯỠNG NHẬN THỨC VỀ ĐẢNG", "heading"),
        _courses_table(org, years),
        Para("IV. TỔ CHỨC ĐẢNG CHƯA KẾT NẠP ĐƯỢC ĐẢNG VIÊN", "heading"),
        *_zero_tables(org, year),
        Para("V. ĐÁNH GIÁ CHUNG", "heading"),
        Para(
            "Số liệu trong báo cáo được tổng hợp từ hệ thống theo dõi công tác phát triển đảng viên; đảng viên mới "
            "được tính vào năm có quyết định kết nạp và vào tổ chức đảng nơi kết nạp tại thời điểm đó."
        ),
    ]
    on_behalf, position = signature_for(org)
    return Document(
        header=header_for(org, doc_code="BC", on=on),
        title="BÁO CÁO",
        subtitle=f"kết quả công tác phát triển đảng viên năm {year}",
        blocks=blocks,
        recipients=recipients_for(org),
        on_behalf=on_behalf,
        position=position,
        filename_stem=f"bao-cao-ket-qua-{org.code}-{year}",
    )


# ---------------------------------------------------------------------------------------------------------
# Plan


def plan_document(*, org: OrgUnit, year: int, on: dt.date | None = None) -> Document:
    on = on or dt.date.today()
    party = party_org_name(org)
    rows_in = attainment_rows(root=org, year=year, depth=1)
    me, children = rows_in[0], rows_in[1:]
    last_year = {r.org_id: r for r in attainment_rows(root=org, year=year - 1, depth=1)}
    rows: list[list] = []
    for index, child in enumerate(children, start=1):
        previous = last_year.get(child.org_id)
        rows.append([index, child.name, _sector_label(child.sector), child.members_start, child.quota,
                     pct(child.quota, child.members_start), child.source_quota,
                     previous.admitted if previous else 0])
    bold = set()
    rows.append(["", "Cộng đã phân bổ", "", sum(c.members_start for c in children), me.allocated_to_children,
                 pct(me.allocated_to_children, me.members_start), sum(c.source_quota for c in children),
                 sum(r.admitted for r in last_year.values() if r.org_id != me.org_id)])
    bold.add(len(rows) - 1)
    rows.append(["", "Chưa phân bổ", "", None, me.unallocated, None, None, None])
    bold.add(len(rows) - 1)
    rows.append(["", f"Chỉ tiêu của {party}", "", me.members_start, me.quota, pct(me.quota, me.members_start),
                 me.source_quota, last_year[me.org_id].admitted if me.org_id in last_year else 0])
    bold.add(len(rows) - 1)
    table = Table(
        title=f"Phụ lục. Chỉ tiêu kết nạp đảng viên và tạo nguồn năm {year} giao các tổ chức trực thuộc",
        columns=["STT", "Tổ chức đảng", "Loại hình", "Đảng viên đầu năm", "Chỉ tiêu kết nạp", "Tỷ lệ",
                 "Chỉ tiêu tạo nguồn", f"Đã kết nạp năm {year - 1}"],
        rows=rows,
        widths=[0.7, 4.6, 2.4, 1.4, 1.3, 1.1, 1.3, 1.4],
        bold_rows=bold,
        percent_cols={5},
        sheet="Chi tieu",
    )
    leaves = OrgUnit.objects.filter(HOLDS_PEOPLE_Q, path__startswith=org.path, is_active=True)
    residential = leaves.filter(sector=Sector.RESIDENTIAL).count()
    private = leaves.filter(sector=Sector.PRIVATE).count()
    blocks = [
        Para("I. MỤC ĐÍCH, YÊU CẦU", "heading"),
        Para(
            "Nâng cao chất lượng công tác phát triển đảng viên; bảo đảm đúng nguyên tắc, thủ tục theo Điều lệ Đảng "
            "và các quy định, hướng dẫn của Trung ương; gắn chỉ tiêu kết nạp với tạo nguồn, bồi dưỡng quần chúng ưu tú."
        ),
        Para("II. CHỈ TIÊU", "heading"),
        Para(
            f"Năm {year}, {party} phấn đấu kết nạp {fmt_int(me.quota)} đảng viên, bằng "
            f"{fmt_pct(pct(me.quota, me.members_start))} so với {fmt_int(me.members_start)} đảng viên đầu năm; "
            f"bồi dưỡng, tạo nguồn {fmt_int(me.source_quota)} quần chúng ưu tú."
        ),
        Para(
            f"Mỗi chi bộ thôn, khu dân cư kết nạp ít nhất 01 đảng viên ({fmt_int(residential)} chi bộ); mỗi chi bộ "
            f"đơn vị kinh tế tư nhân kết nạp ít nhất 01 đảng viên ({fmt_int(private)} chi bộ); các chi bộ cơ quan, "
            "đơn vị, trường học phấn đấu kết nạp từ 1–2 quần chúng trở lên (đối với những đơn vị còn nguồn)."
        ),
        table,
        Para("III. TỔ CHỨC THỰC HIỆN", "heading"),
        Para(
            "Các chi, đảng bộ trực thuộc căn cứ chỉ tiêu được giao xây dựng kế hoạch cụ thể, phân công cấp ủy viên "
            "theo dõi, hằng quý báo cáo kết quả về Ban Tổ chức; Ban Tổ chức theo dõi, đôn đốc, tổng hợp, báo cáo "
            "Ban Thường vụ."
        ),
    ]
    on_behalf, position = signature_for(org)
    return Document(
        header=header_for(org, doc_code="KH", on=on),
        title="KẾ HOẠCH",
        subtitle=f"kết nạp đảng viên năm {year}",
        blocks=blocks,
        recipients=recipients_for(org),
        on_behalf=on_behalf,
        position=position,
        filename_stem=f"ke-hoach-ket-nap-{org.code}-{year}",
    )


BUILDERS = {"plan": plan_document, "results": results_document}


def build_document(*, org: OrgUnit, year: int, kind: str, on: dt.date | None = None) -> Document:
    return BUILDERS[kind](org=org, year=year, on=on)
