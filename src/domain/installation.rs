//! Installations: the equipment an operator has put on a council's
//! structures, recorded so the council knows what is on every column and
//! whom its crews should call, day or night.
//!
//! Pure: the validated installation form. All of an approved application's
//! sites are installed together, each with its own equipment line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use super::application::{MAX_SHORT_TEXT, MAX_TEXT, Problems, phone};
use super::asset::{InvalidField, format_date};

/// An installation as it is reported.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallationRequest {
    /// The network the equipment serves (e.g. the operator or neutral host's
    /// client).
    #[schema(example = "Acme Mobile")]
    pub carrier: Option<String>,
    /// Radio technology fitted.
    #[schema(example = "5G NR")]
    pub technology: Option<String>,
    /// Day the installation was completed (`YYYY-MM-DD`): on or after the
    /// approval, not in the future.
    #[schema(example = "2027-05-20")]
    pub installed_on: Option<String>,
    /// Who crews call about the equipment at any hour.
    pub contact_24h: Option<EmergencyContactRequest>,
    /// One entry per site of the application.
    pub equipment: Option<Vec<SiteEquipmentRequest>>,
}

/// A contact reachable around the clock.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyContactRequest {
    /// Name of the person or desk.
    #[schema(example = "Acme network operations centre")]
    pub name: Option<String>,
    /// Telephone number answered 24 hours a day.
    #[schema(example = "+44 800 555 0199")]
    pub phone: Option<String>,
}

/// The equipment on one site.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteEquipmentRequest {
    /// The asset id (one of the application's sites).
    pub asset: Option<String>,
    /// What is on the structure (make, model, mounting).
    #[schema(example = "1 x Acme SC-78 radio, shroud at 6 m")]
    pub description: Option<String>,
}

/// A validated 24-hour contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EmergencyContact {
    /// Name of the person or desk.
    pub name: String,
    /// Telephone number.
    pub phone: String,
}

/// A validated installation of all an application's sites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationForm {
    /// The network served.
    pub carrier: String,
    /// Radio technology.
    pub technology: String,
    /// Day completed.
    pub installed_on: Date,
    /// The 24-hour contact.
    pub contact_24h: EmergencyContact,
    /// Equipment description per asset id.
    pub equipment: BTreeMap<String, String>,
}

impl InstallationForm {
    /// Validates a report for an application with `sites`, approved on
    /// `approved_on`, received on `today`, naming every bad field.
    pub fn parse(
        req: &InstallationRequest,
        sites: &[String],
        approved_on: Date,
        today: Date,
    ) -> Result<InstallationForm, Vec<InvalidField>> {
        let mut p = Problems::default();
        let carrier = p.text("carrier", req.carrier.as_ref(), MAX_SHORT_TEXT);
        let technology = p.text("technology", req.technology.as_ref(), MAX_SHORT_TEXT);
        let installed_on = p
            .date("installed_on", req.installed_on.as_ref())
            .and_then(|d| {
                if d < approved_on {
                    p.add(
                        "installed_on",
                        format!(
                            "must be on or after the approval ({})",
                            format_date(approved_on)
                        ),
                    );
                    None
                } else if d > today {
                    p.add("installed_on", "must not be in the future");
                    None
                } else {
                    Some(d)
                }
            });
        let contact = match &req.contact_24h {
            None => {
                p.missing("contact_24h");
                None
            }
            Some(c) => {
                let name = p.text("contact_24h.name", c.name.as_ref(), MAX_SHORT_TEXT);
                let phone = phone(&mut p, "contact_24h.phone", c.phone.as_ref());
                name.zip(phone)
                    .map(|(name, phone)| EmergencyContact { name, phone })
            }
        };
        let equipment = match &req.equipment {
            None => {
                p.missing("equipment");
                None
            }
            Some(lines) => {
                let before = p.0.len();
                let mut by_asset = BTreeMap::new();
                for (i, line) in lines.iter().enumerate() {
                    let field = format!("equipment[{i}]");
                    let description = p.text(
                        &format!("{field}.description"),
                        line.description.as_ref(),
                        MAX_TEXT,
                    );
                    let Some(asset) = &line.asset else {
                        p.missing(&format!("{field}.asset"));
                        continue;
                    };
                    if !sites.contains(asset) {
                        p.add(
                            format!("{field}.asset"),
                            format!("{asset:?} is not a site of this application"),
                        );
                    } else if by_asset.contains_key(asset) {
                        p.add(
                            format!("{field}.asset"),
                            format!("{asset:?} is listed twice"),
                        );
                    } else if let Some(d) = description {
                        by_asset.insert(asset.clone(), d);
                    }
                }
                for site in sites {
                    if !lines.iter().any(|l| l.asset.as_ref() == Some(site)) {
                        p.add("equipment", format!("site {site:?} has no equipment line"));
                    }
                }
                (p.0.len() == before).then_some(by_asset)
            }
        };
        if !p.0.is_empty() {
            return Err(p.0);
        }
        match (carrier, technology, installed_on, contact, equipment) {
            (
                Some(carrier),
                Some(technology),
                Some(installed_on),
                Some(contact_24h),
                Some(equipment),
            ) => Ok(InstallationForm {
                carrier,
                technology,
                installed_on,
                contact_24h,
                equipment,
            }),
            _ => Err(vec![InvalidField::new("body", "is incomplete")]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn sites() -> Vec<String> {
        vec!["t-1".into(), "t-2".into()]
    }

    #[test]
    fn a_full_report_parses() {
        let req: InstallationRequest = serde_json::from_value(serde_json::json!({
            "carrier": "Acme", "technology": "5G NR", "installed_on": "2027-05-20",
            "contact_24h": {"name": "NOC", "phone": "+44 800 555 0199"},
            "equipment": [{"asset": "t-2", "description": "radio B"},
                          {"asset": "t-1", "description": "radio A"}]
        }))
        .unwrap();
        let f =
            InstallationForm::parse(&req, &sites(), date!(2027 - 05 - 01), date!(2027 - 06 - 01))
                .unwrap();
        assert_eq!(f.equipment["t-1"], "radio A");
        assert_eq!(f.equipment.len(), 2);
        assert_eq!(f.installed_on, date!(2027 - 05 - 20));
    }

    #[test]
    fn a_bad_report_names_every_bad_field() {
        let req: InstallationRequest = serde_json::from_value(serde_json::json!({
            "carrier": "", "installed_on": "2027-04-30",
            "contact_24h": {"name": "NOC", "phone": "none"},
            "equipment": [{"asset": "t-1", "description": "radio A"},
                          {"asset": "t-1", "description": "again"},
                          {"asset": "x-9", "description": "elsewhere"},
                          {"description": ""}]
        }))
        .unwrap();
        let err =
            InstallationForm::parse(&req, &sites(), date!(2027 - 05 - 01), date!(2027 - 06 - 01))
                .unwrap_err();
        let fields: Vec<_> = err.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "carrier",
                "technology",
                "installed_on",
                "contact_24h.phone",
                "equipment[1].asset",
                "equipment[2].asset",
                "equipment[3].description",
                "equipment[3].asset",
                "equipment"
            ]
        );
        assert!(err.last().unwrap().message.contains("t-2"));
    }

    #[test]
    fn installations_are_not_dated_in_the_future() {
        let req: InstallationRequest = serde_json::from_value(serde_json::json!({
            "carrier": "Acme", "technology": "5G NR", "installed_on": "2027-06-02",
            "contact_24h": {"name": "NOC", "phone": "+44 800 555 0199"},
            "equipment": [{"asset": "t-1", "description": "a"}, {"asset": "t-2", "description": "b"}]
        }))
        .unwrap();
        let err =
            InstallationForm::parse(&req, &sites(), date!(2027 - 05 - 01), date!(2027 - 06 - 01))
                .unwrap_err();
        assert_eq!(err[0].field, "installed_on");
    }
}
