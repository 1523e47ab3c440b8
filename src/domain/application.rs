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

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::access::Principal;
use super::asset::{InvalidField, format_date};

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

/// Default days a council has to decide, before any pause (the FCC's
/// shot clocks are 60 and 90 days; 56 is eight working weeks).
pub const DEFAULT_DECISION_PERIOD_DAYS: u32 = 56;
/// Default days after approval to install (six months of 365.25/12 days,
/// rounded up).
pub const DEFAULT_INSTALL_BY_DAYS: u32 = 183;

/// A council's periods for applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSettings {
    /// Days from submission to the decision due date, 1 to 365.
    pub decision_period_days: u32,
    /// Days from approval to the install-by date, 1 to 1,095.
    pub install_by_days: u32,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        ApplicationSettings {
            decision_period_days: DEFAULT_DECISION_PERIOD_DAYS,
            install_by_days: DEFAULT_INSTALL_BY_DAYS,
        }
    }
}

impl ApplicationSettings {
    /// Checks both periods, naming each bad one.
    pub fn validate(&self) -> Result<(), Vec<InvalidField>> {
        let mut bad = Vec::new();
        if !(1..=365).contains(&self.decision_period_days) {
            bad.push(InvalidField::new(
                "decision_period_days",
                "must be between 1 and 365 days",
            ));
        }
        if !(1..=1095).contains(&self.install_by_days) {
            bad.push(InvalidField::new(
                "install_by_days",
                "must be between 1 and 1095 days (three years)",
            ));
        }
        if bad.is_empty() { Ok(()) } else { Err(bad) }
    }
}

/// `date` plus `days`, saturating at the end of the calendar the `time`
/// crate supports (far beyond any term allowed here).
pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(Duration::days(days)).unwrap_or(Date::MAX)
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    (to - from).whole_days()
}

/// The decision clock of one application.
///
/// The council has `period_days` from submission; a request for
/// information stops the clock from the day it is sent until the day the
/// operator responds, and those days are added to the due date. A decision
/// on the due date is on time; the day after, it is overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionClock {
    /// Day the application was submitted.
    pub submitted_on: Date,
    /// The council's decision period when it was submitted.
    pub period_days: u32,
    /// Days paused by earlier requests for information, now answered.
    pub paused_days: u32,
    /// Day the current request for information was sent, while unanswered.
    pub paused_since: Option<Date>,
}

impl DecisionClock {
    /// A clock started on `submitted_on`.
    pub fn start(submitted_on: Date, period_days: u32) -> DecisionClock {
        DecisionClock {
            submitted_on,
            period_days,
            paused_days: 0,
            paused_since: None,
        }
    }

    /// The due date counting only answered pauses: what the store keeps to
    /// list overdue applications (a paused application is never overdue).
    pub fn due(&self) -> Date {
        add_days(
            self.submitted_on,
            i64::from(self.period_days) + i64::from(self.paused_days),
        )
    }

    /// The due date as it stands on `today`: while paused, the days paused
    /// so far are added, so the date moves on each day the operator takes.
    pub fn due_on(&self, today: Date) -> Date {
        match self.paused_since {
            Some(since) => add_days(self.due(), days_between(since, today).max(0)),
            None => self.due(),
        }
    }

    /// Days paused so far, counting an unanswered request up to `today`.
    pub fn paused_days_on(&self, today: Date) -> i64 {
        i64::from(self.paused_days)
            + self
                .paused_since
                .map_or(0, |since| days_between(since, today).max(0))
    }

    /// Stops the clock on `on` (a request for information).
    pub fn pause(self, on: Date) -> DecisionClock {
        DecisionClock {
            paused_since: Some(self.paused_since.unwrap_or(on)),
            ..self
        }
    }

    /// Restarts the clock on `on` (the operator's response), adding the
    /// days it was stopped.
    pub fn resume(self, on: Date) -> DecisionClock {
        let Some(since) = self.paused_since else {
            return self;
        };
        let paused = u32::try_from(days_between(since, on).max(0)).unwrap_or(u32::MAX);
        DecisionClock {
            paused_days: self.paused_days.saturating_add(paused),
            paused_since: None,
            ..self
        }
    }

    /// Is a decision overdue on `today` for an application in `status`?
    pub fn is_overdue(&self, status: ApplicationStatus, today: Date) -> bool {
        status.clock_runs() && self.paused_since.is_none() && today > self.due()
    }
}

/// The day an approval decided on `approved_on` must be installed by.
pub fn install_deadline(approved_on: Date, settings: &ApplicationSettings) -> Date {
    add_days(approved_on, i64::from(settings.install_by_days))
}

/// Has an approval lapsed on `today`? Only once the install-by day itself
/// has passed.
pub fn has_lapsed(status: ApplicationStatus, install_deadline: Date, today: Date) -> bool {
    status == ApplicationStatus::Approved && today > install_deadline
}

/// Most sites one application may name.
pub const MAX_SITES: usize = 100;
/// Longest free-text answer (deployment plan, social value, reasons).
pub const MAX_TEXT: usize = 20_000;
/// Longest short text (names, technology, carrier).
pub const MAX_SHORT_TEXT: usize = 200;

/// The application form as an operator sends it. Every field is optional
/// here so that one answer can name every missing or bad field; see
/// [`ApplicationForm::parse`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    /// Asset ids, all of one authority (1 to 100).
    #[schema(example = json!(["trafford-0a1b2c3d4e5f6071"]))]
    pub assets: Option<Vec<String>>,
    /// Length of the concession in years, 1 to 50.
    #[schema(example = 10)]
    pub term_years: Option<i64>,
    /// First day of the concession (`YYYY-MM-DD`), today or later.
    #[schema(example = "2027-04-01")]
    pub start: Option<String>,
    /// The equipment to be fitted on each site.
    pub equipment: Option<EquipmentRequest>,
    /// How and in what order the sites will be built.
    pub deployment_plan: Option<String>,
    /// The operator's planned install-by date (`YYYY-MM-DD`), on or after
    /// `start` and within the term.
    #[schema(example = "2027-09-30")]
    pub install_by: Option<String>,
    /// Who the council should talk to about the application.
    pub contact: Option<ContactRequest>,
    /// What the deployment does for the community.
    pub social_value: Option<String>,
    /// The saved site search the sites came from, if any.
    pub site_search: Option<String>,
}

/// Technical information about the equipment.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EquipmentRequest {
    /// Radio technology, e.g. `5G NR`.
    #[schema(example = "5G NR")]
    pub technology: Option<String>,
    /// Frequency bands, e.g. `["n78"]` (1 to 32).
    #[schema(example = json!(["n78"]))]
    pub bands: Option<Vec<String>>,
    /// Visible antenna volume per site in litres (above 0, at most 1,000).
    #[schema(example = 20)]
    pub antenna_volume_l: Option<f64>,
    /// Whether a ground cabinet is needed.
    pub cabinet: Option<bool>,
    /// Power drawn per site in watts (0 to 100,000).
    #[schema(example = 250)]
    pub power_w: Option<f64>,
}

/// A person to contact.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    /// Full name.
    pub name: Option<String>,
    /// E-mail address.
    #[schema(example = "planning@example.net")]
    pub email: Option<String>,
    /// Telephone number (6 to 20 digits; `+`, spaces, `-` and brackets allowed).
    #[schema(example = "+44 161 555 0100")]
    pub phone: Option<String>,
}

/// Validated equipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Equipment {
    /// Radio technology.
    pub technology: String,
    /// Frequency bands.
    pub bands: Vec<String>,
    /// Visible antenna volume per site in litres.
    pub antenna_volume_l: f64,
    /// Whether a ground cabinet is needed.
    pub cabinet: bool,
    /// Power drawn per site in watts.
    pub power_w: f64,
}

/// A validated contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Telephone number.
    pub phone: String,
}

/// The parts of the form kept as they were given (stored as one document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormDetails {
    /// The equipment.
    pub equipment: Equipment,
    /// How the sites will be built.
    pub deployment_plan: String,
    /// Who to talk to.
    pub contact: Contact,
    /// What it does for the community.
    pub social_value: String,
}

/// A validated application form.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationForm {
    /// Asset ids, in the order given, none twice.
    pub assets: Vec<String>,
    /// Term in years.
    pub term_years: u32,
    /// First day of the concession.
    pub start: Date,
    /// The operator's planned install-by date.
    pub install_by: Date,
    /// The saved site search the sites came from.
    pub site_search: Option<String>,
    /// Everything else.
    pub details: FormDetails,
}

/// Collects every bad field of one request.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<InvalidField>);

impl Problems {
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(InvalidField::new(field, message));
    }

    pub(crate) fn missing(&mut self, field: &str) {
        self.add(field, "is required");
    }

    /// Non-empty (after trimming) text of at most `max` characters.
    pub(crate) fn text(
        &mut self,
        field: &str,
        value: Option<&String>,
        max: usize,
    ) -> Option<String> {
        let Some(v) = value else {
            self.missing(field);
            return None;
        };
        let v = v.trim();
        if v.is_empty() {
            self.add(field, "must not be empty");
            None
        } else if v.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
            None
        } else if v
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.add(field, "must not contain control characters");
            None
        } else {
            Some(v.to_string())
        }
    }

    pub(crate) fn date(&mut self, field: &str, value: Option<&String>) -> Option<Date> {
        let Some(v) = value else {
            self.missing(field);
            return None;
        };
        match parse_iso_date(v) {
            Some(d) => Some(d),
            None => {
                self.add(field, format!("{v:?} is not a YYYY-MM-DD date"));
                None
            }
        }
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_iso_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// A plausible e-mail address: one `@`, something before it, a dotted
/// domain after it, no spaces. Deliverability is not ours to check.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A telephone number: 6 to 20 digits, with `+`, spaces, `-`, `.` and
/// brackets allowed between them.
pub fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
}

impl ApplicationForm {
    /// Validates a form received on `today`, naming every bad field.
    pub fn parse(
        req: &ApplicationRequest,
        today: Date,
    ) -> Result<ApplicationForm, Vec<InvalidField>> {
        let mut p = Problems::default();

        let assets = match &req.assets {
            None => {
                p.missing("assets");
                None
            }
            Some(list) if list.is_empty() => {
                p.add("assets", "name at least one asset");
                None
            }
            Some(list) if list.len() > MAX_SITES => {
                p.add("assets", format!("name at most {MAX_SITES} assets"));
                None
            }
            Some(list) => {
                let mut seen = BTreeSet::new();
                let before = p.0.len();
                for (i, id) in list.iter().enumerate() {
                    let field = format!("assets[{i}]");
                    if id.trim().is_empty() || id.len() > MAX_SHORT_TEXT {
                        p.add(field, "must be an asset id");
                    } else if !seen.insert(id.as_str()) {
                        p.add(field, format!("names asset {id:?} more than once"));
                    }
                }
                (p.0.len() == before).then(|| list.clone())
            }
        };

        let term_years = match req.term_years {
            None => {
                p.missing("term_years");
                None
            }
            Some(t) if (1..=i64::from(super::fees::MAX_TERM_YEARS)).contains(&t) => {
                u32::try_from(t).ok()
            }
            Some(_) => {
                p.add(
                    "term_years",
                    format!("must be between 1 and {}", super::fees::MAX_TERM_YEARS),
                );
                None
            }
        };

        let start = p.date("start", req.start.as_ref()).and_then(|d| {
            if d < today {
                p.add(
                    "start",
                    format!("must be today ({}) or later", format_date(today)),
                );
                None
            } else {
                Some(d)
            }
        });

        let install_by = p.date("install_by", req.install_by.as_ref());
        if let (Some(by), Some(start)) = (install_by, start) {
            if by < start {
                p.add("install_by", "must be on or after start");
            } else if let Some(term) = term_years {
                let end = add_years(start, term);
                if by >= end {
                    p.add(
                        "install_by",
                        format!("must be before the term ends ({})", format_date(end)),
                    );
                }
            }
        }

        let equipment = match &req.equipment {
            None => {
                p.missing("equipment");
                None
            }
            Some(e) => equipment(&mut p, e),
        };
        let deployment_plan = p.text("deployment_plan", req.deployment_plan.as_ref(), MAX_TEXT);
        let contact = match &req.contact {
            None => {
                p.missing("contact");
                None
            }
            Some(c) => contact(&mut p, c, "contact"),
        };
        let social_value = p.text("social_value", req.social_value.as_ref(), MAX_TEXT);
        let site_search = match &req.site_search {
            None => None,
            Some(s) => p.text("site_search", Some(s), MAX_SHORT_TEXT),
        };

        if !p.0.is_empty() {
            return Err(p.0);
        }
        // Every `None` above recorded a problem, so these are all set.
        match (
            assets,
            term_years,
            start,
            install_by,
            equipment,
            deployment_plan,
            contact,
            social_value,
        ) {
            (
                Some(assets),
                Some(term_years),
                Some(start),
                Some(install_by),
                Some(equipment),
                Some(deployment_plan),
                Some(contact),
                Some(social_value),
            ) => Ok(ApplicationForm {
                assets,
                term_years,
                start,
                install_by,
                site_search,
                details: FormDetails {
                    equipment,
                    deployment_plan,
                    contact,
                    social_value,
                },
            }),
            _ => Err(vec![InvalidField::new("body", "is incomplete")]),
        }
    }
}

fn equipment(p: &mut Problems, e: &EquipmentRequest) -> Option<Equipment> {
    let technology = p.text(
        "equipment.technology",
        e.technology.as_ref(),
        MAX_SHORT_TEXT,
    );
    let bands = match &e.bands {
        None => {
            p.missing("equipment.bands");
            None
        }
        Some(b) if b.is_empty() || b.len() > 32 => {
            p.add("equipment.bands", "list 1 to 32 bands");
            None
        }
        Some(b) => {
            let before = p.0.len();
            let bands: Vec<String> = b
                .iter()
                .enumerate()
                .filter_map(|(i, band)| p.text(&format!("equipment.bands[{i}]"), Some(band), 20))
                .collect();
            (p.0.len() == before).then_some(bands)
        }
    };
    let volume = match e.antenna_volume_l {
        None => {
            p.missing("equipment.antenna_volume_l");
            None
        }
        Some(v) if v.is_finite() && v > 0.0 && v <= 1000.0 => Some(v),
        Some(_) => {
            p.add(
                "equipment.antenna_volume_l",
                "must be above 0 and at most 1000 litres",
            );
            None
        }
    };
    let cabinet = e.cabinet;
    if cabinet.is_none() {
        p.missing("equipment.cabinet");
    }
    let power = match e.power_w {
        None => {
            p.missing("equipment.power_w");
            None
        }
        Some(w) if w.is_finite() && (0.0..=100_000.0).contains(&w) => Some(w),
        Some(_) => {
            p.add("equipment.power_w", "must be between 0 and 100000 watts");
            None
        }
    };
    Some(Equipment {
        technology: technology?,
        bands: bands?,
        antenna_volume_l: volume?,
        cabinet: cabinet?,
        power_w: power?,
    })
}

/// Validates a contact whose fields are named under `prefix`.
fn contact(p: &mut Problems, c: &ContactRequest, prefix: &str) -> Option<Contact> {
    let name = p.text(&format!("{prefix}.name"), c.name.as_ref(), MAX_SHORT_TEXT);
    let email = p
        .text(&format!("{prefix}.email"), c.email.as_ref(), 254)
        .and_then(|e| {
            if is_email(&e) {
                Some(e)
            } else {
                p.add(format!("{prefix}.email"), "is not an e-mail address");
                None
            }
        });
    let phone = phone(p, &format!("{prefix}.phone"), c.phone.as_ref());
    Some(Contact {
        name: name?,
        email: email?,
        phone: phone?,
    })
}

/// Validates a telephone number field.
pub(crate) fn phone(p: &mut Problems, field: &str, value: Option<&String>) -> Option<String> {
    p.text(field, value, 40).and_then(|t| {
        if is_phone(&t) {
            Some(t)
        } else {
            p.add(field, "is not a telephone number (6 to 20 digits)");
            None
        }
    })
}

/// The same day `years` years after `date` (28 February for 29 February in
/// a year that has none).
pub fn add_years(date: Date, years: u32) -> Date {
    let Ok(years) = i32::try_from(years) else {
        return Date::MAX;
    };
    let Some(year) = date.year().checked_add(years) else {
        return Date::MAX;
    };
    date.replace_year(year)
        .or_else(|_| date.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

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

    #[test]
    fn the_clock_pauses_for_information_and_resumes_on_response() {
        // Submitted 1 March with 56 days: due 26 April.
        let c = DecisionClock::start(date!(2027 - 03 - 01), 56);
        assert_eq!(c.due(), date!(2027 - 04 - 26));
        assert!(!c.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 04 - 26)));
        assert!(c.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 04 - 27)));
        assert!(c.is_overdue(ApplicationStatus::Submitted, date!(2027 - 04 - 27)));
        assert!(!c.is_overdue(ApplicationStatus::Approved, date!(2027 - 05 - 27)));

        // Information asked for on 10 March, answered on 24 March: 14 days.
        let paused = c.pause(date!(2027 - 03 - 10));
        assert_eq!(paused.due_on(date!(2027 - 03 - 17)), date!(2027 - 05 - 03));
        assert_eq!(paused.paused_days_on(date!(2027 - 03 - 17)), 7);
        assert!(!paused.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 12 - 31)));
        // Asking again while paused keeps the first day.
        assert_eq!(paused.pause(date!(2027 - 03 - 12)), paused);
        let resumed = paused.resume(date!(2027 - 03 - 24));
        assert_eq!(resumed.paused_days, 14);
        assert_eq!(resumed.due(), date!(2027 - 05 - 10));
        assert!(!resumed.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 05 - 10)));
        assert!(resumed.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 05 - 11)));
        // A second pause of 3 days adds up.
        let again = resumed
            .pause(date!(2027 - 04 - 01))
            .resume(date!(2027 - 04 - 04));
        assert_eq!(again.paused_days, 17);
        assert_eq!(again.due(), date!(2027 - 05 - 13));
        // Resuming a running clock changes nothing.
        assert_eq!(again.resume(date!(2027 - 04 - 05)), again);
    }

    #[test]
    fn approvals_lapse_the_day_after_install_by() {
        let s = ApplicationSettings::default();
        let deadline = install_deadline(date!(2027 - 01 - 15), &s);
        assert_eq!(deadline, date!(2027 - 07 - 17));
        assert!(!has_lapsed(ApplicationStatus::Approved, deadline, deadline));
        assert!(has_lapsed(
            ApplicationStatus::Approved,
            deadline,
            date!(2027 - 07 - 18)
        ));
        assert!(!has_lapsed(
            ApplicationStatus::Installed,
            deadline,
            date!(2030 - 01 - 01)
        ));
    }

    #[test]
    fn settings_name_each_bad_period() {
        assert!(ApplicationSettings::default().validate().is_ok());
        let bad = ApplicationSettings {
            decision_period_days: 0,
            install_by_days: 5000,
        }
        .validate()
        .unwrap_err();
        let fields: Vec<_> = bad.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["decision_period_days", "install_by_days"]);
    }

    #[test]
    fn years_are_added_on_the_calendar() {
        assert_eq!(add_years(date!(2027 - 04 - 01), 3), date!(2030 - 04 - 01));
        assert_eq!(add_years(date!(2028 - 02 - 29), 1), date!(2029 - 02 - 28));
        assert_eq!(add_years(date!(2028 - 02 - 29), 4), date!(2032 - 02 - 29));
    }

    fn good() -> ApplicationRequest {
        serde_json::from_value(serde_json::json!({
            "assets": ["trafford-1", "trafford-2"],
            "term_years": 10,
            "start": "2027-04-01",
            "equipment": {"technology": "5G NR", "bands": ["n78"], "antenna_volume_l": 20,
                          "cabinet": false, "power_w": 250},
            "deployment_plan": "Two columns on the A56.",
            "install_by": "2027-09-30",
            "contact": {"name": "Ada Planner", "email": "ada@example.net", "phone": "+44 161 555 0100"},
            "social_value": "Coverage for the market square.",
        }))
        .unwrap()
    }

    #[test]
    fn a_good_form_parses() {
        let f = ApplicationForm::parse(&good(), date!(2027 - 01 - 01)).unwrap();
        assert_eq!(f.assets, ["trafford-1", "trafford-2"]);
        assert_eq!(f.term_years, 10);
        assert_eq!(f.start, date!(2027 - 04 - 01));
        assert_eq!(f.details.equipment.bands, ["n78"]);
        assert_eq!(f.site_search, None);
    }

    #[test]
    fn an_empty_form_names_every_missing_field() {
        let err = ApplicationForm::parse(&ApplicationRequest::default(), date!(2027 - 01 - 01))
            .unwrap_err();
        let fields: Vec<_> = err.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "assets",
                "term_years",
                "start",
                "install_by",
                "equipment",
                "deployment_plan",
                "contact",
                "social_value"
            ]
        );
    }

    #[test]
    fn a_bad_form_names_every_bad_field() {
        let req: ApplicationRequest = serde_json::from_value(serde_json::json!({
            "assets": ["a", "b", "a", ""],
            "term_years": 0,
            "start": "2026-12-31",
            "equipment": {"technology": " ", "bands": ["n78", ""], "antenna_volume_l": 0,
                          "power_w": -1},
            "deployment_plan": "",
            "install_by": "30/09/2027",
            "contact": {"name": "A", "email": "not-an-address", "phone": "12"},
            "social_value": "x".repeat(MAX_TEXT + 1),
            "site_search": "",
        }))
        .unwrap();
        let err = ApplicationForm::parse(&req, date!(2027 - 01 - 01)).unwrap_err();
        let fields: Vec<_> = err.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "assets[2]",
                "assets[3]",
                "term_years",
                "start",
                "install_by",
                "equipment.technology",
                "equipment.bands[1]",
                "equipment.antenna_volume_l",
                "equipment.cabinet",
                "equipment.power_w",
                "deployment_plan",
                "contact.email",
                "contact.phone",
                "social_value",
                "site_search"
            ]
        );
    }

    #[test]
    fn install_by_must_fall_within_the_term() {
        let mut req = good();
        req.install_by = Some("2027-03-31".into());
        let err = ApplicationForm::parse(&req, date!(2027 - 01 - 01)).unwrap_err();
        assert_eq!(err[0].field, "install_by");
        req.install_by = Some("2037-04-01".into());
        let err = ApplicationForm::parse(&req, date!(2027 - 01 - 01)).unwrap_err();
        assert!(err[0].message.contains("2037-04-01"), "{err:?}");
        req.install_by = Some("2037-03-31".into());
        assert!(ApplicationForm::parse(&req, date!(2027 - 01 - 01)).is_ok());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let r: Result<ApplicationRequest, _> =
            serde_json::from_value(serde_json::json!({"asset": ["x"]}));
        assert!(r.unwrap_err().to_string().contains("unknown field"));
    }

    #[test]
    fn phones_and_emails() {
        assert!(is_phone("+44 (0)161 555-0100"));
        assert!(!is_phone("12345"));
        assert!(!is_phone("call me"));
        assert!(is_email("a.b@council.gov.uk"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.d"));
        assert!(!is_email("@c.d"));
    }
}
