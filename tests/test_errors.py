"""Every docagent error pickles (it crosses Celery) and prints as it did before the trip."""

from __future__ import annotations

import pickle

import pytest

import docagent.service.cron
import docagent.service.keys
import docagent.service.records
import docagent.service.schedules
import docagent.service.storage
from docagent import errors


def all_errors(cls: type = errors.DocagentError) -> list[type]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += all_errors(sub)
    return sorted(set(out), key=lambda c: c.__name__)


def example(cls: type) -> errors.DocagentError:
    if issubclass(cls, errors.IngestError):
        return cls("data.csv", "a problem")
    if issubclass(cls, errors.ExprError):
        return cls("a +", "a problem")
    if issubclass(cls, errors.PlanError | errors.RepairBudgetExhausted) or cls.__name__ == "_Problems":
        return cls(["first problem", "second problem"])
    return cls("a problem")


@pytest.mark.parametrize("cls", all_errors(), ids=lambda c: c.__name__)
def test_errors_pickle(cls):
    e = example(cls)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls and str(back) == str(e) and back.code == e.code


def test_the_tree_covers_every_module():
    names = {c.__name__ for c in all_errors()}
    assert {"InvalidSchedule", "InvalidApiKey", "StorageError", "JobNotFound", "SourceError", "NotJSON"} <= names
    assert (
        docagent.service.cron
        and docagent.service.keys
        and docagent.service.records
        and docagent.service.schedules
        and docagent.service.storage
    )
