import datetime as dt
import unicodedata

import pytest
from django.core.exceptions import ValidationError

from members.services import cccd_clean, people_transfer_all, person_fields_clean
from recruitment.models import Candidate, Stage
from tests.factories import CandidateFactory, PersonFactory


class TestCleaning:
    def test_cccd_keeps_12_digits_typed_with_spaces_or_dots(self):
        assert cccd_clean("022 300.001-234") == "022300001234"
        assert cccd_clean("") is None and cccd_clean(None) is None

    @pytest.mark.parametrize("value", ["02230000123", "0223000012345", "02230000123A"])
    def test_cccd_other_than_12_digits_refused(self, value):
        with pytest.raises(ValidationError, match="12 chữ số"):
            cccd_clean(value)

    def test_names_are_nfc_and_single_spaced(self):
        decomposed = unicodedata.normalize("NFD", "  Đặng   Thị  Huệ ")
        out = person_fields_clean({"full_name": decomposed, "ethnicity": "", "religion": "", "unknown": 1})
        assert out == {"full_name": "Đặng Thị Huệ", "ethnicity": "Kinh", "religion": "Không"}
        assert unicodedata.is_normalized("NFC", out["full_name"])

    def test_blank_name_refused(self):
        with pytest.raises(ValidationError):
            person_fields_clean({"full_name": "   "})


@pytest.mark.django_db
def test_transfer_all_moves_people_but_not_their_past(world):
    person = PersonFactory(branch=world.sibling)
    CandidateFactory(person=person, org=world.sibling, stage=Stage.ADMITTED, decision_date=dt.date(2025, 3, 3),
                     admitted_lineage=world.sibling.lineage)
    assert people_transfer_all(from_org=world.sibling, to_org=world.branch) == 1
    candidate = Candidate.objects.get(person=person)
    assert candidate.org == world.branch and candidate.person.branch == world.branch
    assert candidate.admitted_lineage == world.sibling.lineage
