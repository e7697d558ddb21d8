"""Numbers in HTML attributes and number inputs are machine-readable (no Vietnamese decimal comma)."""

import datetime as dt
import re

from quotas.services import attainment_recompute, quota_set
from recruitment.models import Candidate, Stage
from tests.factories import PersonFactory


def test_progress_bars_and_rate_input_render_unlocalised_numbers(world, client_for):
    year = dt.date.today().year
    quota_set(org=world.city, year=year, admission_quota=3, source_quota=3)
    Candidate.objects.create(
        person=PersonFactory(branch=world.branch),
        org=world.branch,
        stage=Stage.PROBATIONARY,
        decision_date=dt.date(year, 1, 10),
        ceremony_date=dt.date(year, 1, 20),
        admitted_lineage=world.branch.lineage,
    )
    attainment_recompute(year=year)
    client = client_for(world.persona("board_city"))
    html = client.get(f"/chi-tieu/to-chuc/{world.city.pk}/?year={year}").content.decode()
    values = re.findall(r'aria-valuenow="([^"]*)"', html)
    assert values and all(re.fullmatch(r"\d+", v) for v in values), values
    assert 'aria-valuenow="33"' in html  # 1 of 3 = 33.3 %
    widths = re.findall(r"width: ([\d.,]+)%", html)
    assert widths and all(re.fullmatch(r"\d+(\.\d)?", w) for w in widths), widths
    assert "width: 33.3%" in html

    html = client.get(f"/chi-tieu/phan-bo/{world.city.pk}/?year={year}&rate=3,5").content.decode()
    assert 'name="rate" id="id_rate" value="3.5"' in html
    html = client.get(f"/chi-tieu/phan-bo/{world.city.pk}/?year={year}").content.decode()
    assert 'name="rate" id="id_rate" value="3.5"' in html
    for tag in re.findall(r'<input[^>]*type="number"[^>]*>', html):
        value = re.search(r'value="([^"]*)"', tag)
        assert value is None or "," not in value.group(1), tag
