"""Every condition operator, true and false, with the boundaries of time windows."""

from __future__ import annotations

import datetime as dt

import pytest

from intake.conditions import ConditionError, evaluate, referenced_ids

VISIT = dt.date(2026, 11, 25)
ANSWERS = {
    "smoker": "yes", "pregnant": False, "meds": ["nsaid", "retinoid"], "units": 20, "empty_list": [],
    "last_dose": "2026-08-01", "name": "Ann", "blank": "",
}


@pytest.mark.parametrize(("cond", "expected"), [
    ({"equals": {"smoker": "yes"}}, True),
    ({"equals": {"smoker": "no"}}, False),
    ({"equals": {"pregnant": False}}, True),
    ({"equals": {"missing": "x"}}, False),
    ({"includes": {"meds": "nsaid"}}, True),
    ({"includes": {"meds": "isotretinoin"}}, False),
    ({"includes": {"smoker": "yes"}}, False),  # not a list
    ({"answered": "name"}, True),
    ({"answered": "blank"}, False),
    ({"answered": "empty_list"}, False),
    ({"answered": "missing"}, False),
    ({"at_least": {"units": 20}}, True),
    ({"at_least": {"units": 21}}, False),
    ({"at_least": {"pregnant": 0}}, False),  # booleans are not numbers
    ({"at_least": {"missing": 1}}, False),
    ({"not": {"equals": {"smoker": "yes"}}}, False),
    ({"not": {"equals": {"smoker": "no"}}}, True),
    ({"all": [{"equals": {"smoker": "yes"}}, {"includes": {"meds": "nsaid"}}]}, True),
    ({"all": [{"equals": {"smoker": "yes"}}, {"includes": {"meds": "other"}}]}, False),
    ({"any": [{"equals": {"smoker": "no"}}, {"includes": {"meds": "nsaid"}}]}, True),
    ({"any": [{"equals": {"smoker": "no"}}, {"includes": {"meds": "other"}}]}, False),
])
def test_operator(cond, expected):
    assert evaluate(cond, ANSWERS, VISIT) is expected


# 2026-08-01 to 2026-11-25 is 116 days.
@pytest.mark.parametrize(("days", "expected"), [(116, True), (115, False), (180, True)])
def test_within_days_boundary(days, expected):
    assert evaluate({"within_days": {"last_dose": days}}, ANSWERS, VISIT) is expected


def test_within_days_ignores_dates_after_the_visit_and_non_dates():
    assert evaluate({"within_days": {"last_dose": 365}}, ANSWERS, dt.date(2026, 7, 1)) is False
    assert evaluate({"within_days": {"name": 365}}, ANSWERS, VISIT) is False
    assert evaluate({"within_days": {"missing": 365}}, ANSWERS, VISIT) is False


def test_within_days_reads_a_named_window():
    assert evaluate({"within_days": {"last_dose": "isotretinoin"}}, ANSWERS, VISIT, {"isotretinoin": 182}) is True
    assert evaluate({"within_days": {"last_dose": "isotretinoin"}}, ANSWERS, VISIT, {"isotretinoin": 90}) is False
    with pytest.raises(ConditionError, match="unknown window"):
        evaluate({"within_days": {"last_dose": "nope"}}, ANSWERS, VISIT)


@pytest.mark.parametrize(("cond", "message"), [
    ({"equals": {"a": 1}, "any": []}, "one operator"),
    ("equals", "one operator"),
    ({"resembles": {"a": 1}}, "unknown condition operator"),
    ({"any": []}, "non-empty list"),
    ({"equals": {"a": 1, "b": 2}}, "one {link_id: value} pair"),
    ({"answered": ["a"]}, "takes a link_id"),
    ({"within_days": {"a": [1]}}, "number or a window name"),
])
def test_malformed_conditions_are_refused(cond, message):
    with pytest.raises(ConditionError, match=message.replace("{", r"\{").replace("}", r"\}")):
        referenced_ids(cond)


def test_referenced_ids_walks_the_tree():
    cond = {"all": [{"equals": {"a": 1}}, {"not": {"any": [{"answered": "b"}, {"within_days": {"c": 3}}]}}]}
    assert referenced_ids(cond) == {"a", "b", "c"}
