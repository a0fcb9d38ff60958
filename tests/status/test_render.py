import datetime

import pytest

from headlamp_operator.status import render as status

T0 = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)


def test_ready_outcome_renders_kstatus_conditions() -> None:
    outcome = status.Outcome(phase="Running", reason="Started", message="forwarding", fields={"port": "8080"})
    rendered = status.render(outcome, generation=3, previous=None, moment=T0, time_field="lastSyncTime")
    assert rendered["phase"] == "Running" and rendered["reason"] == "Started"
    assert rendered["observedGeneration"] == 3 and rendered["port"] == "8080"
    assert rendered["lastSyncTime"] == "2026-11-22T10:00:00Z"
    by_type = {c["type"]: c for c in rendered["conditions"]}
    assert by_type["Ready"]["status"] == "True" and by_type["Ready"]["observedGeneration"] == 3
    assert by_type["Reconciling"]["status"] == "False" and by_type["Stalled"]["status"] == "False"
    for condition in rendered["conditions"]:  # metav1.Condition requires all of these
        assert {"type", "status", "reason", "message", "lastTransitionTime"} <= condition.keys()
        assert condition["reason"]


@pytest.mark.parametrize(("phase", "ready", "reconciling", "stalled"), [
    ("Pending", "False", "True", "False"),
    ("Failed", "False", "False", "True"),
    ("Applied", "True", "False", "False"),
    ("Stopped", "True", "False", "False"),
])
def test_phases_map_to_conditions(phase: status.Phase, ready: str, reconciling: str, stalled: str) -> None:
    outcome = status.Outcome(phase=phase, reason="Pending" if phase == "Pending" else "Applied", message="m")
    by_type = {c["type"]: c["status"] for c in status.conditions(outcome, generation=1, moment=T0)}
    assert by_type == {"Ready": ready, "Reconciling": reconciling, "Stalled": stalled}


def test_last_transition_time_is_kept_while_the_status_holds() -> None:
    running = status.Outcome(phase="Running", reason="Started", message="a")
    first = status.render(running, generation=1, previous=None, moment=T0)
    again = status.render(running, generation=2, previous=first, moment=T1)
    assert again["conditions"][0]["lastTransitionTime"] == "2026-11-22T10:00:00Z"
    failed = status.Outcome(phase="Failed", reason="Forbidden", message="b")
    flipped = status.render(failed, generation=2, previous=again, moment=T1)
    assert flipped["conditions"][0]["lastTransitionTime"] == "2026-11-22T10:05:00Z"


def test_unknown_reasons_are_refused() -> None:
    with pytest.raises(ValueError):
        status.Outcome(phase="Failed", reason="Oops", message="")


def test_changed_ignores_timestamps() -> None:
    old = {"phase": "Running", "reason": "Started", "lastSyncTime": "x"}
    assert not status.changed(old, {"phase": "Running", "lastSyncTime": "y"}, ignore=("lastSyncTime",))
    assert status.changed(old, {"phase": "Pending"})


def test_timestamps_round_trip() -> None:
    assert status.parse_timestamp(status.timestamp(T0)) == T0
    assert status.parse_timestamp("garbage") is None
