//! Applications for sites: the states an application goes through, who may
//! move it on, the decision clock and the install-by rule, and the validated
//! application form.
//!
//! Pure: no HTTP, no SQL, no clock. Every function that depends on the date
//! takes `today`; the store applies the transitions decided here with
//! conditional updates, so two people acting at once cannot both win.
//!
//! The life of an application:
//!
//! ```text
//! submitted ─review─▶ under_review ─approve─▶ approved ─install─▶ installed ─terminate─▶ terminated
//!     │                 │   ▲   │                 │
//!     │                 │   │   └─reject─▶ rejected└─lapse (install-by passed)─▶ lapsed
//!     │                 │   └respond── info_requested ◀─request_info─┘
//!     └──── withdraw (from submitted, under_review or info_requested) ─▶ withdrawn
//! ```

mod clock;
mod form;
mod record;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use clock::*;
pub use form::*;
pub use record::*;

use super::access::Principal;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Received; the sites are held; the decision clock runs.
    Submitted,
    /// Taken up by the council's estates staff; the clock runs.
    UnderReview,
    /// The council asked the operator for more information; the clock is
    /// paused until the operator responds.
    InfoRequested,
    /// Granted: a concession agreement exists; the operator must install by
    /// the install-by date.
    Approved,
    /// Refused; the sites are released.
    Rejected,
    /// Withdrawn by the operator before a decision; the sites are released.
    Withdrawn,
    /// Equipment is on the sites.
    Installed,
    /// The agreement ended after installation; the sites are released.
    Terminated,
    /// Approved but not installed by the install-by date; the sites are
    /// released (no land-banking).
    Lapsed,
}

impl ApplicationStatus {
    /// Every status, in the order of the life above.
    pub const ALL: [ApplicationStatus; 9] = [
        ApplicationStatus::Submitted,
        ApplicationStatus::UnderReview,
        ApplicationStatus::InfoRequested,
        ApplicationStatus::Approved,
        ApplicationStatus::Rejected,
        ApplicationStatus::Withdrawn,
        ApplicationStatus::Installed,
        ApplicationStatus::Terminated,
        ApplicationStatus::Lapsed,
    ];

    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::UnderReview => "under_review",
            ApplicationStatus::InfoRequested => "info_requested",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Withdrawn => "withdrawn",
            ApplicationStatus::Installed => "installed",
            ApplicationStatus::Terminated => "terminated",
            ApplicationStatus::Lapsed => "lapsed",
        }
    }

    /// Awaiting a decision: the states an operator may withdraw from and
    /// attach documents in.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Submitted
                | ApplicationStatus::UnderReview
                | ApplicationStatus::InfoRequested
        )
    }

    /// Holds a unit of capacity on each of its sites.
    pub fn holds_capacity(self) -> bool {
        self.is_open()
            || matches!(
                self,
                ApplicationStatus::Approved | ApplicationStatus::Installed
            )
    }

    /// The decision clock runs (and an application can be overdue).
    pub fn clock_runs(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Submitted | ApplicationStatus::UnderReview
        )
    }
}

impl FromStr for ApplicationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApplicationStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown status {s:?}; expected one of {}",
                    ApplicationStatus::ALL.map(|v| v.as_str()).join(", ")
                )
            })
    }
}

impl fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who moves an application on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The applying operator (its organisation's tokens).
    Operator,
    /// Estates staff of the authority that owns the sites.
    Staff,
    /// A rule applied by the service itself (the install-by lapse).
    Rule,
}

/// Something that moves an application from one state to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Staff take the application up: `submitted` → `under_review`.
    Review,
    /// Staff ask for more information: `under_review` → `info_requested`
    /// (pauses the clock).
    RequestInfo,
    /// The operator answers: `info_requested` → `under_review` (restarts
    /// the clock).
    Respond,
    /// Staff grant it: `under_review` → `approved` (makes the agreement).
    Approve,
    /// Staff refuse it: `under_review` → `rejected`.
    Reject,
    /// The operator withdraws it before a decision.
    Withdraw,
    /// The equipment is installed: `approved` → `installed`.
    Install,
    /// The agreement ends: `installed` → `terminated`.
    Terminate,
    /// The install-by date passed without an installation: `approved` →
    /// `lapsed`.
    Lapse,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 9] = [
        Action::Review,
        Action::RequestInfo,
        Action::Respond,
        Action::Approve,
        Action::Reject,
        Action::Withdraw,
        Action::Install,
        Action::Terminate,
        Action::Lapse,
    ];

    /// The snake_case name used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Review => "review",
            Action::RequestInfo => "request_info",
            Action::Respond => "respond",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Withdraw => "withdraw",
            Action::Install => "install",
            Action::Terminate => "terminate",
            Action::Lapse => "lapse",
        }
    }

    /// The states this action may start from.
    pub fn from_states(self) -> &'static [ApplicationStatus] {
        use ApplicationStatus as S;
        match self {
            Action::Review => &[S::Submitted],
            Action::RequestInfo | Action::Approve | Action::Reject => &[S::UnderReview],
            Action::Respond => &[S::InfoRequested],
            Action::Withdraw => &[S::Submitted, S::UnderReview, S::InfoRequested],
            Action::Install | Action::Lapse => &[S::Approved],
            Action::Terminate => &[S::Installed],
        }
    }

    /// The state the action leads to.
    pub fn to_state(self) -> ApplicationStatus {
        use ApplicationStatus as S;
        match self {
            Action::Review | Action::Respond => S::UnderReview,
            Action::RequestInfo => S::InfoRequested,
            Action::Approve => S::Approved,
            Action::Reject => S::Rejected,
            Action::Withdraw => S::Withdrawn,
            Action::Install => S::Installed,
            Action::Terminate => S::Terminated,
            Action::Lapse => S::Lapsed,
        }
    }

    /// Who may take it. Installation and termination can be recorded by
    /// either side: the operator knows the kit and its crews, the council
    /// may record what its own inspection found.
    pub fn parties(self) -> &'static [Party] {
        match self {
            Action::Review | Action::RequestInfo | Action::Approve | Action::Reject => {
                &[Party::Staff]
            }
            Action::Respond | Action::Withdraw => &[Party::Operator],
            Action::Install | Action::Terminate => &[Party::Operator, Party::Staff],
            Action::Lapse => &[Party::Rule],
        }
    }

    /// Gives the held capacity back.
    pub fn releases_capacity(self) -> bool {
        matches!(
            self,
            Action::Reject | Action::Withdraw | Action::Lapse | Action::Terminate
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an application that is {current}")]
pub struct IllegalTransition {
    /// What was tried.
    pub action: Action,
    /// Where the application stands.
    pub current: ApplicationStatus,
}

/// The state `action` leads to from `current`, or why not.
pub fn transition(
    current: ApplicationStatus,
    action: Action,
) -> Result<ApplicationStatus, IllegalTransition> {
    if action.from_states().contains(&current) {
        Ok(action.to_state())
    } else {
        Err(IllegalTransition { action, current })
    }
}

/// What a principal may do with an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Go ahead.
    Allowed,
    /// The principal may see the application but not take this action (403).
    Forbidden,
    /// The principal may not know the application exists (404).
    Hidden,
}

/// The parties an application has: who applied and whose sites they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties<'a> {
    /// The authority owning the sites.
    pub authority: &'a str,
    /// The applying organisation.
    pub organisation: &'a str,
}

/// May `principal` see the application at all? The applying organisation,
/// the authority's staff and the administrator may; nobody else learns it
/// exists.
pub fn can_see(principal: &Principal, parties: &Parties<'_>) -> bool {
    match principal {
        Principal::Admin => true,
        Principal::Staff { authority } => authority == parties.authority,
        Principal::Operator { organisation } => organisation == parties.organisation,
    }
}

/// May `principal` take `action` on the application? The administrator may
/// act for either side; [`Action::Lapse`] is the service's alone.
pub fn permission(principal: &Principal, parties: &Parties<'_>, action: Action) -> Permission {
    if !can_see(principal, parties) {
        return Permission::Hidden;
    }
    let party = match principal {
        Principal::Admin => return allowed_unless_rule(action),
        Principal::Staff { .. } => Party::Staff,
        Principal::Operator { .. } => Party::Operator,
    };
    if action.parties().contains(&party) {
        Permission::Allowed
    } else {
        Permission::Forbidden
    }
}

fn allowed_unless_rule(action: Action) -> Permission {
    if action.parties() == [Party::Rule] {
        Permission::Forbidden
    } else {
        Permission::Allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(a: &str) -> Principal {
        Principal::Staff {
            authority: a.into(),
        }
    }

    fn operator(o: &str) -> Principal {
        Principal::Operator {
            organisation: o.into(),
        }
    }

    /// The transition table written out by hand from the issue, independent
    /// of `from_states`/`to_state`: every (state, action) pair not listed
    /// here must be refused.
    const LEGAL: [(ApplicationStatus, Action, ApplicationStatus); 11] = {
        use Action as A;
        use ApplicationStatus as S;
        [
            (S::Submitted, A::Review, S::UnderReview),
            (S::Submitted, A::Withdraw, S::Withdrawn),
            (S::UnderReview, A::Approve, S::Approved),
            (S::UnderReview, A::Reject, S::Rejected),
            (S::UnderReview, A::RequestInfo, S::InfoRequested),
            (S::UnderReview, A::Withdraw, S::Withdrawn),
            (S::InfoRequested, A::Respond, S::UnderReview),
            (S::InfoRequested, A::Withdraw, S::Withdrawn),
            (S::Approved, A::Install, S::Installed),
            (S::Approved, A::Lapse, S::Lapsed),
            (S::Installed, A::Terminate, S::Terminated),
        ]
    };

    #[test]
    fn every_pair_of_state_and_action_follows_the_table() {
        let mut legal = 0;
        for from in ApplicationStatus::ALL {
            for action in Action::ALL {
                let expected = LEGAL
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|t| t.2);
                match (transition(from, action), expected) {
                    (Ok(to), Some(want)) => {
                        assert_eq!(to, want, "{from} --{action}-->");
                        legal += 1;
                    }
                    (Err(e), None) => {
                        assert_eq!(e.current, from);
                        assert!(e.to_string().contains(from.as_str()), "{e}");
                    }
                    (got, want) => panic!("{from} --{action}--> gave {got:?}, table says {want:?}"),
                }
            }
        }
        assert_eq!(legal, 11, "distinct legal transitions");
    }

    #[test]
    fn final_states_allow_nothing() {
        use ApplicationStatus as S;
        for s in [S::Rejected, S::Withdrawn, S::Terminated, S::Lapsed] {
            assert!(
                Action::ALL.iter().all(|&a| transition(s, a).is_err()),
                "{s}"
            );
            assert!(!s.holds_capacity());
        }
    }

    #[test]
    fn capacity_is_held_exactly_while_the_application_lives() {
        use ApplicationStatus as S;
        // Releasing actions lead out of a holding state into a free one;
        // every other action stays within holding states.
        for (from, action) in ApplicationStatus::ALL
            .iter()
            .flat_map(|&s| Action::ALL.iter().map(move |&a| (s, a)))
        {
            if let Ok(to) = transition(from, action) {
                assert!(from.holds_capacity());
                assert_eq!(
                    to.holds_capacity(),
                    !action.releases_capacity(),
                    "{from} {action}"
                );
            }
        }
        assert!(S::Submitted.holds_capacity() && S::Installed.holds_capacity());
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in ApplicationStatus::ALL {
            assert_eq!(s.as_str().parse::<ApplicationStatus>().unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("approved ".parse::<ApplicationStatus>().is_err());
    }

    #[test]
    fn each_side_takes_only_its_own_actions() {
        let parties = Parties {
            authority: "trafford",
            organisation: "acme",
        };
        let op = operator("acme");
        let st = staff("trafford");
        for action in Action::ALL {
            let want_op = matches!(
                action,
                Action::Respond | Action::Withdraw | Action::Install | Action::Terminate
            );
            let want_staff = matches!(
                action,
                Action::Review
                    | Action::RequestInfo
                    | Action::Approve
                    | Action::Reject
                    | Action::Install
                    | Action::Terminate
            );
            let expect = |ok| {
                if ok {
                    Permission::Allowed
                } else {
                    Permission::Forbidden
                }
            };
            assert_eq!(
                permission(&op, &parties, action),
                expect(want_op),
                "{action}"
            );
            assert_eq!(
                permission(&st, &parties, action),
                expect(want_staff),
                "{action}"
            );
            assert_eq!(
                permission(&Principal::Admin, &parties, action),
                expect(action != Action::Lapse)
            );
            // Outsiders do not learn the application exists.
            assert_eq!(
                permission(&operator("other"), &parties, action),
                Permission::Hidden
            );
            assert_eq!(
                permission(&staff("salford"), &parties, action),
                Permission::Hidden
            );
        }
    }
}
