//! What is kept about an application, its audit trail, the agreement an
//! approval makes and the installations that follow: plain data that the
//! store reads and writes and the HTTP layer shows.

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::clock::DecisionClock;
use super::form::FormDetails;
use super::{ApplicationStatus, Parties};
use crate::domain::access::Principal;
use crate::domain::asset::{Asset, AssetKind, PowerSupply};
use crate::domain::fees::{Quote, QuoteSite, QuoteTerms};
use crate::domain::installation::EmergencyContact;

/// One site of an application as it was when applied for: what priced it
/// and where it lay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationSite {
    /// The asset's id.
    pub asset: String,
    /// Its kind.
    pub kind: AssetKind,
    /// Its ward, if any.
    pub ward: Option<String>,
    /// Its fee zone, if any.
    pub fee_zone: Option<String>,
    /// Power at the asset.
    pub power_supply: PowerSupply,
    /// Year it was put up, if known.
    pub install_year: Option<i32>,
    /// Another installation was already on it.
    pub shared: bool,
}

impl ApplicationSite {
    /// The site of a registered asset; `shared` when equipment is already on
    /// it.
    pub fn from_asset(asset: &Asset, shared: bool) -> ApplicationSite {
        ApplicationSite {
            asset: asset.id.clone(),
            kind: asset.details.kind,
            ward: asset.placement.ward.as_deref().map(str::to_string),
            fee_zone: asset.placement.fee_zone.as_deref().map(str::to_string),
            power_supply: asset.details.power_supply,
            install_year: asset.details.install_year,
            shared,
        }
    }

    /// The site as the fee rules see it.
    pub fn quote_site(&self) -> QuoteSite {
        QuoteSite {
            asset_id: self.asset.clone(),
            kind: self.kind,
            fee_zone: self.fee_zone.clone(),
            power_supply: self.power_supply,
            install_year: self.install_year,
            shared: self.shared,
            new_structure: false,
        }
    }
}

/// An application as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    /// Its id.
    pub id: String,
    /// The authority owning the sites.
    pub authority: String,
    /// The applying organisation.
    pub organisation: String,
    /// Where it stands.
    pub status: ApplicationStatus,
    /// Term in years.
    pub term_years: u32,
    /// First day of the concession.
    pub start: Date,
    /// The operator's planned install-by date.
    pub install_by: Date,
    /// Equipment, plan, contact, social value.
    pub details: FormDetails,
    /// The saved site search it came from, if any.
    pub site_search: Option<String>,
    /// The quote it was made on.
    pub quote: Quote,
    /// When it was received (RFC 3339).
    pub submitted_at: String,
    /// The decision clock.
    pub clock: DecisionClock,
    /// Day of the decision (approval or rejection).
    pub decided_on: Option<Date>,
    /// Day an approval must be installed by.
    pub install_deadline: Option<Date>,
    /// The sites, in the order applied for.
    pub sites: Vec<ApplicationSite>,
}

impl Application {
    /// Who applied and whose sites they are.
    pub fn parties(&self) -> Parties<'_> {
        Parties {
            authority: &self.authority,
            organisation: &self.organisation,
        }
    }

    /// The asset ids, in the order applied for.
    pub fn asset_ids(&self) -> Vec<String> {
        self.sites.iter().map(|s| s.asset.clone()).collect()
    }

    /// The terms of the quote.
    pub fn terms(&self) -> QuoteTerms {
        QuoteTerms {
            term_years: self.term_years,
            start: self.start,
            discount_rate: None,
        }
    }
}

/// Who did something, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Actor {
    /// `admin`, `staff`, `operator` or `system` (a rule of the service).
    pub role: String,
    /// The authority (staff), organisation (operator), `admin`, or the rule.
    pub name: String,
}

impl Actor {
    /// The principal behind a request.
    pub fn of(principal: &Principal) -> Actor {
        let (role, name) = match principal {
            Principal::Admin => ("admin", "admin".to_string()),
            Principal::Staff { authority } => ("staff", authority.clone()),
            Principal::Operator { organisation } => ("operator", organisation.clone()),
        };
        Actor {
            role: role.to_string(),
            name,
        }
    }

    /// The install-by rule.
    pub fn install_by_rule() -> Actor {
        Actor {
            role: "system".into(),
            name: "install-by rule".into(),
        }
    }
}

/// Event names that are not transitions.
pub mod event {
    /// The application was received.
    pub const SUBMIT: &str = "submit";
    /// A document was attached.
    pub const ATTACH: &str = "attach";
}

/// One entry of an application's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// Order among all events (increasing).
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: Actor,
    /// What: `submit`, `attach` or a transition (`review`, `approve`...).
    pub action: String,
    /// The status before, for transitions.
    #[schema(value_type = Option<String>)]
    pub from: Option<ApplicationStatus>,
    /// The status after (also on `submit`).
    #[schema(value_type = Option<String>)]
    pub to: Option<ApplicationStatus>,
    /// The reason or message given.
    pub reason: Option<String>,
    /// Anything else recorded (the document attached, the installation...).
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// A concession agreement made by an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// Its id.
    pub id: String,
    /// The application approved.
    pub application: String,
    /// The fee schedule version it is priced on.
    pub schedule_version: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// First day.
    pub start: Date,
    /// Term in years.
    pub term_years: u32,
    /// Day it was made (the approval).
    pub made_on: Date,
    /// Day it ended (lapse or termination), if it has.
    pub ended_on: Option<Date>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Its charges, site by site.
    pub charges: Vec<crate::domain::ledger::AgreementCharge>,
}

impl Agreement {
    /// Rent and subsidy per agreement year, with the day each falls due:
    /// the quote engine's `years` table.
    pub fn years(&self) -> Vec<(u32, Date, Decimal, Decimal)> {
        use crate::domain::ledger::ChargeKind;
        let mut out: Vec<(u32, Date, Decimal, Decimal)> = Vec::new();
        for c in self.charges.iter().filter(|c| c.kind == ChargeKind::Rent) {
            match out.iter_mut().find(|y| y.0 == c.year) {
                Some(y) => {
                    y.2 += c.amount;
                    y.3 += c.subsidy;
                }
                None => out.push((c.year, c.due_on, c.amount, c.subsidy)),
            }
        }
        out.sort_by_key(|y| y.0);
        out
    }
}

/// Equipment on one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// Its id.
    pub id: String,
    /// The application it was installed under.
    pub application: String,
    /// The site.
    pub asset: String,
    /// The authority owning the site.
    pub authority: String,
    /// The operator.
    pub organisation: String,
    /// The network served.
    pub carrier: String,
    /// Radio technology.
    pub technology: String,
    /// What is on the structure.
    pub equipment: String,
    /// Day completed.
    pub installed_on: Date,
    /// Who crews call at any hour.
    pub contact_24h: EmergencyContact,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// Day it came off (termination), if it has.
    pub removed_on: Option<Date>,
}

/// A document attached to an application (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Its id.
    pub id: String,
    /// The application.
    pub application: String,
    /// Name it is downloaded under.
    pub filename: String,
    /// What it is, in the operator's words.
    pub description: Option<String>,
    /// Media type, from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// When (RFC 3339).
    pub uploaded_at: String,
    /// Who.
    pub uploaded_by: String,
}
