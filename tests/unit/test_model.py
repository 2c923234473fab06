"""Tests for tui.core.model: the part and session state machines and Event."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from tui.core.model import (
    DONE_PART_STATES,
    FINAL_SESSION_STATES,
    PART_TRANSITIONS,
    SESSION_TRANSITIONS,
    Event,
    InvalidTransition,
    Part,
    PartState,
    Session,
    SessionState,
)

P = PartState
S = SessionState


def make_part(state: PartState = P.PENDING) -> Part:
    return Part(session_id="abc", number=3, start=10, end=25, state=state)


def make_session(state: SessionState = S.PLANNED) -> Session:
    return Session(
        id="0123456789abcdef",
        account="acct",
        provider="s3",
        path="/tmp/f",
        size=25,
        mtime_ns=1,
        part_size=8,
        state=state,
    )


def reachable(graph: Mapping[Any, frozenset[Any]], start: Any) -> set[Any]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# -- parts -----------------------------------------------------------------------------------


def test_every_part_state_has_a_transition_entry() -> None:
    assert set(PART_TRANSITIONS) == set(PartState)


@pytest.mark.parametrize(
    ("old", "new"),
    [(old, new) for old, news in PART_TRANSITIONS.items() for new in sorted(news)],
)
def test_part_allowed_transitions(old: PartState, new: PartState) -> None:
    part = make_part(old)
    part.move(new)
    assert part.state == new


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (old, new)
        for old, new in itertools.product(PartState, PartState)
        if old != new and new not in PART_TRANSITIONS[old]
    ],
)
def test_part_refused_transitions(old: PartState, new: PartState) -> None:
    part = make_part(old)
    with pytest.raises(InvalidTransition) as info:
        part.move(new)
    assert part.state == old  # unchanged
    assert f"part 3: {old} -> {new}" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (P.VERIFIED, P.UPLOADING),
        (P.PENDING, P.UPLOADED),
        (P.FAILED, P.VERIFIED),
        (P.HASHING, P.VERIFIED),
        (P.EXPIRED, P.UPLOADING),
    ],
)
def test_part_key_refusals(old: PartState, new: PartState) -> None:
    with pytest.raises(InvalidTransition):
        make_part(old).move(new)


def test_part_pending_to_verified_is_reconciliation() -> None:
    part = make_part(P.PENDING)
    part.move(P.VERIFIED)
    assert part.done


@pytest.mark.parametrize("state", list(PartState))
def test_part_same_state_is_a_no_op(state: PartState) -> None:
    part = make_part(state)
    part.move(state)
    assert part.state == state


def test_part_size_and_done() -> None:
    part = make_part()
    assert part.size == 15
    assert not part.done
    for state in PartState:
        assert Part("s", 1, 0, 0, state=state).done is (state in DONE_PART_STATES)
    assert {P.VERIFIED, P.UNVERIFIABLE} == DONE_PART_STATES


def test_every_part_state_can_get_back_to_pending_or_done() -> None:
    for state in PartState:
        assert reachable(PART_TRANSITIONS, state) & DONE_PART_STATES


# -- sessions --------------------------------------------------------------------------------


def test_every_session_state_has_a_transition_entry() -> None:
    assert set(SESSION_TRANSITIONS) == set(SessionState)


@pytest.mark.parametrize(
    ("old", "new"),
    [(old, new) for old, news in SESSION_TRANSITIONS.items() for new in sorted(news)],
)
def test_session_allowed_transitions(old: SessionState, new: SessionState) -> None:
    session = make_session(old)
    session.move(new)
    assert session.state == new


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (old, new)
        for old, new in itertools.product(SessionState, SessionState)
        if old != new and new not in SESSION_TRANSITIONS[old]
    ],
)
def test_session_refused_transitions(old: SessionState, new: SessionState) -> None:
    session = make_session(old)
    with pytest.raises(InvalidTransition) as info:
        session.move(new)
    assert session.state == old
    assert f"{old} -> {new}" in str(info.value)


@pytest.mark.parametrize("state", sorted(FINAL_SESSION_STATES))
def test_final_session_states_have_no_exits(state: SessionState) -> None:
    assert SESSION_TRANSITIONS[state] == frozenset()
    session = make_session(state)
    assert session.final
    for new in SessionState:
        if new != state:
            with pytest.raises(InvalidTransition):
                session.move(new)
    assert session.state == state


def test_final_states_are_completed_and_aborted() -> None:
    assert frozenset({S.COMPLETED, S.ABORTED}) == FINAL_SESSION_STATES
    assert not make_session(S.COMPLETE_UNKNOWN).final


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.PLANNED, S.COMPLETED),
        (S.PLANNED, S.COMPLETING),
        (S.UPLOADING, S.COMPLETED),
        (S.COMPLETING, S.ABORTING),
        (S.ABORTING, S.UPLOADING),
        (S.LOCAL_CHANGED, S.COMPLETING),
    ],
)
def test_session_key_refusals(old: SessionState, new: SessionState) -> None:
    with pytest.raises(InvalidTransition):
        make_session(old).move(new)


def test_every_session_state_is_reachable_from_planned() -> None:
    assert reachable(SESSION_TRANSITIONS, S.PLANNED) == set(SessionState)


@pytest.mark.parametrize("state", [s for s in SessionState if s not in FINAL_SESSION_STATES])
def test_every_live_session_state_can_end(state: SessionState) -> None:
    assert reachable(SESSION_TRANSITIONS, state) & FINAL_SESSION_STATES


def test_session_opened_follows_remote() -> None:
    session = make_session()
    assert not session.opened
    session.remote = {"upload_id": "u"}
    assert session.opened


# -- Event -----------------------------------------------------------------------------------


def test_event_as_dict_drops_none_fields() -> None:
    event = Event(kind="progress", session_id="s1", time=12.5)
    assert event.as_dict() == {"event": "progress", "session": "s1", "time": 12.5}


def test_event_as_dict_keeps_set_fields_and_data() -> None:
    event = Event(
        kind="part",
        session_id="s1",
        time=1.0,
        state="verified",
        part=0,
        message="ok",
        data={"etag": "abc"},
    )
    assert event.as_dict() == {
        "event": "part",
        "session": "s1",
        "time": 1.0,
        "state": "verified",
        "part": 0,  # part 0 is not None: kept
        "message": "ok",
        "etag": "abc",
    }


def test_event_as_dict_empty_message_is_kept_but_none_dropped() -> None:
    assert Event("error", "s", 0.0, message="").as_dict()["message"] == ""
    assert "message" not in Event("error", "s", 0.0, message=None).as_dict()
