//! The case lifecycle (after GB/T 30428: collect → register → dispatch →
//! handle → feedback → verify → close → evaluate) as a pure state machine:
//! given a case's state and a step, the next state, or a refusal listing the
//! steps that are allowed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

crate::state_enum! {
    /// Where a case stands.
    pub enum Status {
        /// 受理: filed, not yet assessed.
        Received => "received",
        /// 立案: accepted, to be dispatched.
        Accepted => "accepted",
        /// 不予立案: rejected with a reason (final).
        Rejected => "rejected",
        /// 派遣: sent to a worker, grid or department, not yet signed for.
        Dispatched => "dispatched",
        /// 签收/办理中: signed for and being handled.
        InProgress => "in_progress",
        /// 反馈: the handler submitted a result.
        ResultSubmitted => "result_submitted",
        /// 核查: the grid worker verified the result.
        Verified => "verified",
        /// 办结: resolved, awaiting the resident's rating.
        Resolved => "resolved",
        /// 挂账: parked with approval (cannot be solved now; tracked).
        Parked => "parked",
        /// 结案: closed.
        Closed => "closed",
    }
}

impl Status {
    /// Still being worked on: clocks run and lists of open cases show it.
    pub const fn is_open(self) -> bool {
        !matches!(
            self,
            Status::Rejected | Status::Resolved | Status::Parked | Status::Closed
        )
    }
}

crate::state_enum! {
    /// What a case row is.
    #[schema(as = CaseKind)]
    pub enum Kind {
        /// A resident's need or a finding, filed through a channel.
        Case => "case",
        /// 拆分: a part of a case given to one handler; it is not rated.
        Task => "task",
        /// 打包: several needs served together in one visit.
        Bundle => "bundle",
    }
}

/// A step of the lifecycle; each one becomes an event with actor and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 立案.
    Accept,
    /// 不予立案 (reason required).
    Reject,
    /// 派遣 to a staff member, a grid or a department (also re-dispatch).
    Dispatch,
    /// 签收.
    Sign,
    /// 退回 to the dispatcher (reason required).
    Return,
    /// 申请延期.
    RequestExtension,
    /// 批准延期.
    ApproveExtension,
    /// 驳回延期.
    DenyExtension,
    /// 等待居民: clocks pause.
    WaitForResident,
    /// Clocks run again.
    Resume,
    /// 反馈结果.
    SubmitResult,
    /// 核查通过.
    Verify,
    /// 核查不通过: back to the handler for rework (reason required).
    SendBack,
    /// 办结.
    Resolve,
    /// 申请挂账.
    RequestPark,
    /// 批准挂账.
    ApprovePark,
    /// 驳回挂账.
    DenyPark,
    /// 解除挂账.
    Unpark,
    /// 上报: escalate one level (by hand; the worker does it at 100 %).
    Escalate,
    /// 评价: the resident's rating (10/8/6/3/0); 3 or 0 reopens for rework.
    Rate,
    /// 结案.
    Close,
    /// 重新办理 (reason required).
    Reopen,
}

impl Step {
    /// Every step, in lifecycle order.
    pub const ALL: [Step; 22] = [
        Step::Accept,
        Step::Reject,
        Step::Dispatch,
        Step::Sign,
        Step::Return,
        Step::RequestExtension,
        Step::ApproveExtension,
        Step::DenyExtension,
        Step::WaitForResident,
        Step::Resume,
        Step::SubmitResult,
        Step::Verify,
        Step::SendBack,
        Step::Resolve,
        Step::RequestPark,
        Step::ApprovePark,
        Step::DenyPark,
        Step::Unpark,
        Step::Escalate,
        Step::Rate,
        Step::Close,
        Step::Reopen,
    ];

    /// The stable name used in the API and in the case's events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Accept => "accept",
            Step::Reject => "reject",
            Step::Dispatch => "dispatch",
            Step::Sign => "sign",
            Step::Return => "return",
            Step::RequestExtension => "request_extension",
            Step::ApproveExtension => "approve_extension",
            Step::DenyExtension => "deny_extension",
            Step::WaitForResident => "wait_for_resident",
            Step::Resume => "resume",
            Step::SubmitResult => "submit_result",
            Step::Verify => "verify",
            Step::SendBack => "send_back",
            Step::Resolve => "resolve",
            Step::RequestPark => "request_park",
            Step::ApprovePark => "approve_park",
            Step::DenyPark => "deny_park",
            Step::Unpark => "unpark",
            Step::Escalate => "escalate",
            Step::Rate => "rate",
            Step::Close => "close",
            Step::Reopen => "reopen",
        }
    }

    /// Parses the stable name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Steps that must state a reason.
    pub const fn needs_reason(self) -> bool {
        matches!(
            self,
            Step::Reject
                | Step::Return
                | Step::RequestExtension
                | Step::DenyExtension
                | Step::SendBack
                | Step::RequestPark
                | Step::DenyPark
                | Step::Escalate
                | Step::Reopen
        )
    }
}

/// The part of a case the lifecycle reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Where the case stands.
    pub status: Status,
    /// Waiting for the resident: clocks are paused.
    pub paused: bool,
    /// An extension (申请延期) awaits a decision; lapses when the case leaves
    /// the handler's hands.
    pub extension_requested: bool,
    /// Parking (申请挂账) awaits approval; lapses when the case leaves 办理中.
    pub park_requested: bool,
}

impl State {
    /// A case as filed.
    pub const fn new() -> State {
        State {
            status: Status::Received,
            paused: false,
            extension_requested: false,
            park_requested: false,
        }
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// What a step does to the case's clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEffect {
    /// The first-response clock stops (met or breached).
    StopResponse,
    /// Every running clock stops.
    StopAll,
    /// Every running clock pauses (waiting for the resident, parked).
    PauseAll,
    /// Paused clocks run again, their deadlines pushed back by the pause.
    ResumeAll,
    /// The category's staged milestones start.
    StartMilestones,
    /// A rework clock (15 working days) starts for a new cycle.
    StartRework,
    /// The running resolution or rework clock gets the approved extension.
    Extend,
}

/// The clock effects of a step that moved a case to `after`.
pub fn clock_effects(step: Step, after: State) -> &'static [ClockEffect] {
    use ClockEffect as E;
    match step {
        Step::Accept => &[E::StartMilestones],
        Step::Reject | Step::Resolve => &[E::StopAll],
        Step::Dispatch => &[E::StopResponse],
        Step::WaitForResident | Step::ApprovePark => &[E::PauseAll],
        Step::Resume | Step::Unpark => &[E::ResumeAll],
        Step::ApproveExtension => &[E::Extend],
        Step::Rate if after.status == Status::InProgress => &[E::StartRework],
        Step::Reopen => &[E::StartRework],
        _ => &[],
    }
}

/// A rating: 好差评 on five levels.
pub const SCORES: [i16; 5] = [10, 8, 6, 3, 0];

/// Whether a score is bad enough to reopen the case for rework.
pub const fn is_bad_score(score: i16) -> bool {
    score <= 3
}

/// A step that is not allowed now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{step} is not allowed while the case is {status}", step = step.as_str(), status = status.as_str())]
pub struct Illegal {
    /// The step that was refused.
    pub step: Step,
    /// The status the case was in when it was refused.
    pub status: Status,
    /// What is allowed instead.
    pub allowed: Vec<Step>,
}

/// The state after `step`, for a rating the `score` decides (bad scores reopen).
pub fn next(state: State, step: Step, score: Option<i16>) -> Result<State, Illegal> {
    apply(state, step, score).ok_or_else(|| Illegal {
        step,
        status: state.status,
        allowed: allowed(state),
    })
}

/// Every step allowed in `state` (a rating is allowed if some score is).
pub fn allowed(state: State) -> Vec<Step> {
    Step::ALL
        .into_iter()
        .filter(|&step| apply(state, step, (step == Step::Rate).then_some(10)).is_some())
        .collect()
}

fn apply(state: State, step: Step, score: Option<i16>) -> Option<State> {
    use Status as S;
    let s = state.status;
    let working = matches!(s, S::Dispatched | S::InProgress);
    let mut to = state;
    let ok = match step {
        Step::Accept => s == S::Received && set(&mut to.status, S::Accepted),
        Step::Reject => s == S::Received && set(&mut to.status, S::Rejected),
        Step::Dispatch => {
            matches!(s, S::Accepted | S::Dispatched | S::InProgress)
                && !state.paused
                && set(&mut to.status, S::Dispatched)
        }
        Step::Sign => s == S::Dispatched && set(&mut to.status, S::InProgress),
        Step::Return => s == S::Dispatched && set(&mut to.status, S::Accepted),
        Step::RequestExtension => {
            working && !state.extension_requested && set(&mut to.extension_requested, true)
        }
        Step::ApproveExtension | Step::DenyExtension => {
            working && state.extension_requested && set(&mut to.extension_requested, false)
        }
        Step::WaitForResident => s == S::InProgress && !state.paused && set(&mut to.paused, true),
        Step::Resume => state.paused && set(&mut to.paused, false),
        Step::SubmitResult => {
            s == S::InProgress && !state.paused && set(&mut to.status, S::ResultSubmitted)
        }
        Step::Verify => s == S::ResultSubmitted && set(&mut to.status, S::Verified),
        Step::SendBack => {
            matches!(s, S::ResultSubmitted | S::Verified) && set(&mut to.status, S::InProgress)
        }
        Step::Resolve => s == S::Verified && set(&mut to.status, S::Resolved),
        Step::RequestPark => {
            s == S::InProgress && !state.park_requested && set(&mut to.park_requested, true)
        }
        Step::ApprovePark => {
            s == S::InProgress
                && state.park_requested
                && set(&mut to.park_requested, false)
                && set(&mut to.paused, false)
                && set(&mut to.status, S::Parked)
        }
        Step::DenyPark => {
            s == S::InProgress && state.park_requested && set(&mut to.park_requested, false)
        }
        Step::Unpark => s == S::Parked && set(&mut to.status, S::InProgress),
        Step::Escalate => matches!(s, S::Accepted | S::Dispatched | S::InProgress),
        Step::Rate => match score {
            Some(score) if s == S::Resolved && SCORES.contains(&score) => set(
                &mut to.status,
                if is_bad_score(score) {
                    S::InProgress
                } else {
                    S::Closed
                },
            ),
            _ => false,
        },
        Step::Close => matches!(s, S::Resolved | S::Parked) && set(&mut to.status, S::Closed),
        Step::Reopen => s == S::Closed && set(&mut to.status, S::InProgress),
    };
    // Pending requests and pauses belong to work in hand: they lapse when the
    // case leaves it.
    to.extension_requested &= matches!(to.status, S::Dispatched | S::InProgress);
    to.park_requested &= to.status == S::InProgress;
    to.paused &= to.status == S::InProgress;
    ok.then_some(to)
}

fn set<T>(slot: &mut T, value: T) -> bool {
    *slot = value;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn st(status: Status) -> State {
        State {
            status,
            paused: false,
            extension_requested: false,
            park_requested: false,
        }
    }

    /// The whole table of legal steps, written out independently of `next`.
    fn expected(state: State, step: Step) -> Option<State> {
        use Status as S;
        use Step as T;
        let s = state.status;
        let to = |status| Some(State { status, ..state });
        let working = matches!(s, S::Dispatched | S::InProgress);
        match (s, step) {
            (S::Received, T::Accept) => to(S::Accepted),
            (S::Received, T::Reject) => to(S::Rejected),
            (S::Accepted | S::Dispatched | S::InProgress, T::Dispatch) if !state.paused => {
                Some(State {
                    status: S::Dispatched,
                    park_requested: false,
                    ..state
                })
            }
            (S::Dispatched, T::Sign) => to(S::InProgress),
            (S::Dispatched, T::Return) => Some(State {
                status: S::Accepted,
                extension_requested: false,
                ..state
            }),
            (_, T::RequestExtension) if working && !state.extension_requested => Some(State {
                extension_requested: true,
                ..state
            }),
            (_, T::ApproveExtension | T::DenyExtension) if working && state.extension_requested => {
                Some(State {
                    extension_requested: false,
                    ..state
                })
            }
            (S::InProgress, T::WaitForResident) if !state.paused => Some(State {
                paused: true,
                ..state
            }),
            (_, T::Resume) if state.paused => Some(State {
                paused: false,
                ..state
            }),
            (S::InProgress, T::SubmitResult) if !state.paused => Some(State {
                status: S::ResultSubmitted,
                extension_requested: false,
                park_requested: false,
                ..state
            }),
            (S::ResultSubmitted, T::Verify) => to(S::Verified),
            (S::ResultSubmitted | S::Verified, T::SendBack) => to(S::InProgress),
            (S::Verified, T::Resolve) => to(S::Resolved),
            (S::InProgress, T::RequestPark) if !state.park_requested => Some(State {
                park_requested: true,
                ..state
            }),
            (S::InProgress, T::ApprovePark) if state.park_requested => Some(State {
                status: S::Parked,
                paused: false,
                park_requested: false,
                extension_requested: false,
            }),
            (S::InProgress, T::DenyPark) if state.park_requested => Some(State {
                park_requested: false,
                ..state
            }),
            (S::Parked, T::Unpark) => to(S::InProgress),
            (S::Accepted | S::Dispatched | S::InProgress, T::Escalate) => Some(state),
            (S::Resolved, T::Rate) => to(S::Closed),
            (S::Resolved | S::Parked, T::Close) => to(S::Closed),
            (S::Closed, T::Reopen) => to(S::InProgress),
            _ => None,
        }
    }

    /// Every reachable combination of status and flags: pauses and park
    /// requests exist only in progress, extension requests only while dispatched
    /// or in progress.
    fn states() -> Vec<State> {
        let mut all = Vec::new();
        for status in Status::ALL {
            for bits in 0..8u8 {
                let state = State {
                    status,
                    paused: bits & 1 != 0,
                    extension_requested: bits & 2 != 0,
                    park_requested: bits & 4 != 0,
                };
                let in_progress = status == Status::InProgress;
                let working = in_progress || status == Status::Dispatched;
                if (in_progress || !state.paused && !state.park_requested)
                    && (working || !state.extension_requested)
                {
                    all.push(state);
                }
            }
        }
        all
    }

    #[test]
    fn every_step_from_every_state_matches_the_table() {
        let mut legal = 0;
        for state in states() {
            for step in Step::ALL {
                let got = next(state, step, Some(10));
                match expected(state, step) {
                    Some(want) => {
                        legal += 1;
                        assert_eq!(got, Ok(want), "{state:?} --{step:?}-->");
                    }
                    None => {
                        let err =
                            got.expect_err(&format!("{state:?} --{step:?}--> must be refused"));
                        assert_eq!(err.status, state.status);
                        assert!(!err.allowed.contains(&step));
                        for a in &err.allowed {
                            assert!(
                                expected(state, *a).is_some(),
                                "{a:?} listed as allowed in {state:?}"
                            );
                        }
                    }
                }
            }
        }
        assert!(legal >= 50, "the table is not empty: {legal}");
    }

    #[test]
    fn ratings_close_or_reopen_and_only_the_five_scores_count() {
        let resolved = st(Status::Resolved);
        for score in [10, 8, 6] {
            assert_eq!(
                next(resolved, Step::Rate, Some(score)).unwrap().status,
                Status::Closed
            );
        }
        for score in [3, 0] {
            assert_eq!(
                next(resolved, Step::Rate, Some(score)).unwrap().status,
                Status::InProgress
            );
        }
        for bad in [None, Some(5), Some(11), Some(-1)] {
            assert!(next(resolved, Step::Rate, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_happy_path_and_the_allowed_list_of_a_refusal() {
        let mut s = State::new();
        for step in [
            Step::Accept,
            Step::Dispatch,
            Step::Sign,
            Step::SubmitResult,
            Step::Verify,
            Step::Resolve,
        ] {
            s = next(s, step, None).unwrap();
        }
        assert_eq!(s.status, Status::Resolved);
        let err = next(st(Status::Received), Step::Sign, None).unwrap_err();
        assert_eq!(err.allowed, [Step::Accept, Step::Reject]);
        assert_eq!(
            err.to_string(),
            "sign is not allowed while the case is received"
        );
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(step));
        }
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }
}
