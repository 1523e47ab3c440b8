//! The application form: what an operator sends, and its validation, which
//! names every missing or bad field at once.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::Date;

use super::clock::add_years;
use crate::domain::asset::{InvalidField, format_date};

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
            Some(t) if (1..=i64::from(crate::domain::fees::MAX_TERM_YEARS)).contains(&t) => {
                u32::try_from(t).ok()
            }
            Some(_) => {
                p.add(
                    "term_years",
                    format!(
                        "must be between 1 and {}",
                        crate::domain::fees::MAX_TERM_YEARS
                    ),
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

/// A decision on an application under review.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `approve`, `reject` or `request_info`.
    #[schema(example = "approve")]
    pub decision: Option<String>,
    /// Why (required to reject or to ask for information).
    pub reason: Option<String>,
}

/// An operator's answer to a request for information.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    /// The information asked for.
    pub response: Option<String>,
}

/// A withdrawal or a termination, with its reason.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why (optional to withdraw, required to terminate).
    pub reason: Option<String>,
}

impl DecisionRequest {
    /// The action decided and its reason, naming every bad field.
    pub fn parse(&self) -> Result<(super::Action, Option<String>), Vec<InvalidField>> {
        use super::Action;
        let mut p = Problems::default();
        let action = match self.decision.as_deref() {
            None => {
                p.missing("decision");
                None
            }
            Some("approve") => Some(Action::Approve),
            Some("reject") => Some(Action::Reject),
            Some("request_info") => Some(Action::RequestInfo),
            Some(other) => {
                p.add(
                    "decision",
                    format!(
                        "{other:?} is not a decision; expected approve, reject or request_info"
                    ),
                );
                None
            }
        };
        let reason = match (action, &self.reason) {
            (Some(Action::Reject | Action::RequestInfo), r) => {
                p.text("reason", r.as_ref(), MAX_TEXT)
            }
            (_, Some(r)) => p.text("reason", Some(r), MAX_TEXT),
            (_, None) => None,
        };
        match action {
            Some(a) if p.0.is_empty() => Ok((a, reason)),
            _ => Err(p.0),
        }
    }
}

impl ResponseRequest {
    /// The response text.
    pub fn parse(&self) -> Result<String, Vec<InvalidField>> {
        let mut p = Problems::default();
        p.text("response", self.response.as_ref(), MAX_TEXT)
            .ok_or(p.0)
    }
}

impl ReasonRequest {
    /// The reason, which must be given when `required`.
    pub fn parse(&self, required: bool) -> Result<Option<String>, Vec<InvalidField>> {
        let mut p = Problems::default();
        let reason = match (&self.reason, required) {
            (None, false) => None,
            (r, _) => p.text("reason", r.as_ref(), MAX_TEXT),
        };
        if p.0.is_empty() { Ok(reason) } else { Err(p.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

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

    #[test]
    fn decisions_need_reasons_to_refuse_or_ask() {
        let d = |v: serde_json::Value| {
            serde_json::from_value::<DecisionRequest>(v)
                .unwrap()
                .parse()
        };
        assert_eq!(
            d(serde_json::json!({"decision": "approve"})).unwrap(),
            (crate::domain::application::Action::Approve, None)
        );
        let err = d(serde_json::json!({"decision": "reject"})).unwrap_err();
        assert_eq!(err[0].field, "reason");
        let err = d(serde_json::json!({"decision": "request_info", "reason": " "})).unwrap_err();
        assert_eq!(err[0].field, "reason");
        let err = d(serde_json::json!({"decision": "maybe", "reason": ""})).unwrap_err();
        let fields: Vec<_> = err.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["decision", "reason"]);
        assert!(d(serde_json::json!({})).is_err());
        let r = ResponseRequest {
            response: Some("  ".into()),
        };
        assert_eq!(r.parse().unwrap_err()[0].field, "response");
        assert_eq!(ReasonRequest::default().parse(false).unwrap(), None);
        assert_eq!(
            ReasonRequest::default().parse(true).unwrap_err()[0].field,
            "reason"
        );
    }
}
