//! The JSON the application endpoints answer with: the real response types,
//! built from the register's records.

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use crate::domain::application::{
    Agreement, Application, AttachmentInfo, Contact, Equipment, Event, Installation,
};
use crate::domain::asset::format_date;
use crate::domain::fees::{Quote, money};
use crate::domain::installation::EmergencyContact;
use crate::register::ApplicationRecord;

/// A link to a related resource or page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Link {
    /// Where.
    pub href: String,
    /// How it relates (`self`, `next`, `prev`, `events`...).
    pub rel: String,
    /// Its media type.
    #[serde(rename = "type")]
    pub media_type: String,
}

impl Link {
    /// A JSON link.
    pub fn json(href: String, rel: &str) -> Link {
        Link {
            href,
            rel: rel.to_string(),
            media_type: "application/json".into(),
        }
    }
}

/// One site of an application as applied for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SiteView {
    /// The asset's id.
    pub asset: String,
    /// Its kind.
    #[schema(example = "lamp_post")]
    pub kind: String,
    /// Its ward then.
    pub ward: Option<String>,
    /// Its fee zone then.
    pub fee_zone: Option<String>,
    /// Another installation was already on it (priced as shared).
    pub shared: bool,
}

/// Where the decision clock stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    /// The council's decision period when the application was submitted.
    pub period_days: u32,
    /// Days the clock has been stopped by requests for information
    /// (including an unanswered one, up to today).
    pub paused_days: i64,
    /// Stopped now, awaiting the operator's response.
    pub paused: bool,
}

/// One agreement year: the quote engine's year table with its due date.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgreementYearView {
    /// Agreement year, from 1.
    pub year: u32,
    /// When that year's rent falls due.
    #[schema(example = "2027-04-01")]
    pub due_on: String,
    /// All sites' rent.
    #[serde(with = "money")]
    #[schema(value_type = String, example = "540.00")]
    pub rent: Decimal,
    /// The part paid into the subsidy fund.
    #[serde(with = "money")]
    #[schema(value_type = String, example = "270.00")]
    pub subsidy: Decimal,
}

/// The concession agreement an approval made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgreementView {
    /// Its id.
    pub id: String,
    /// The fee schedule version it is priced on.
    pub schedule_version: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// First day.
    pub start: String,
    /// Term in years.
    pub term_years: u32,
    /// Day it was made.
    pub made_on: String,
    /// Day it ended (lapse or termination); charges due after it stop.
    pub ended_on: Option<String>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Rent and subsidy year by year.
    pub years: Vec<AgreementYearView>,
    /// One-off site fees (structural surveys), due with the first year.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub site_fees: Decimal,
    /// Rent over the term.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub rent_total: Decimal,
    /// Subsidy over the term.
    #[serde(with = "money")]
    #[schema(value_type = String)]
    pub subsidy_total: Decimal,
}

impl AgreementView {
    /// The view of an agreement.
    pub fn of(a: &Agreement) -> AgreementView {
        let years: Vec<AgreementYearView> = a
            .years()
            .into_iter()
            .map(|(year, due, rent, subsidy)| AgreementYearView {
                year,
                due_on: format_date(due),
                rent,
                subsidy,
            })
            .collect();
        AgreementView {
            id: a.id.clone(),
            schedule_version: a.schedule_version,
            currency: a.currency.clone(),
            start: format_date(a.start),
            term_years: a.term_years,
            made_on: format_date(a.made_on),
            ended_on: a.ended_on.map(format_date),
            end_reason: a.end_reason.clone(),
            site_fees: a
                .charges
                .iter()
                .filter(|c| c.kind == crate::domain::ledger::ChargeKind::SiteFee)
                .map(|c| c.amount)
                .sum(),
            rent_total: years.iter().map(|y| y.rent).sum(),
            subsidy_total: years.iter().map(|y| y.subsidy).sum(),
            years,
        }
    }
}

/// Equipment on one site.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InstallationView {
    /// Its id.
    pub id: String,
    /// The application it was installed under.
    pub application: String,
    /// The site.
    pub asset: String,
    /// The operator.
    pub operator: String,
    /// The network served.
    pub carrier: String,
    /// Radio technology.
    pub technology: String,
    /// What is on the structure.
    pub equipment: String,
    /// Day completed.
    pub installed_on: String,
    /// Who crews call at any hour.
    pub contact_24h: EmergencyContact,
    /// Day it came off, if it has.
    pub removed_on: Option<String>,
}

impl InstallationView {
    /// The view of an installation.
    pub fn of(i: &Installation) -> InstallationView {
        InstallationView {
            id: i.id.clone(),
            application: i.application.clone(),
            asset: i.asset.clone(),
            operator: i.organisation.clone(),
            carrier: i.carrier.clone(),
            technology: i.technology.clone(),
            equipment: i.equipment.clone(),
            installed_on: format_date(i.installed_on),
            contact_24h: i.contact_24h.clone(),
            removed_on: i.removed_on.map(format_date),
        }
    }
}

/// An application.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    /// Its id.
    #[schema(example = "app-5f1c0a9e3b7d2c4e6a80")]
    pub id: String,
    /// `submitted`, `under_review`, `info_requested`, `approved`, `rejected`,
    /// `withdrawn`, `installed`, `terminated` or `lapsed`.
    #[schema(example = "submitted")]
    pub status: String,
    /// The authority owning the sites.
    pub authority: String,
    /// The applying operator.
    pub organisation: String,
    /// The asset ids, in the order applied for.
    pub assets: Vec<String>,
    /// The sites as applied for.
    pub sites: Vec<SiteView>,
    /// Term in years.
    pub term_years: u32,
    /// First day of the concession.
    pub start: String,
    /// The operator's planned install-by date.
    pub install_by: String,
    /// The equipment.
    pub equipment: Equipment,
    /// How the sites will be built.
    pub deployment_plan: String,
    /// Who to talk to.
    pub contact: Contact,
    /// What it does for the community.
    pub social_value: String,
    /// The saved site search it came from.
    pub site_search: Option<String>,
    /// When it was received (RFC 3339).
    pub submitted_at: String,
    /// Day the decision is due, counting pauses (while paused, as if the
    /// operator answered today).
    pub decision_due: String,
    /// The decision is late.
    pub overdue: bool,
    /// The clock.
    pub clock: ClockView,
    /// Day of the decision.
    pub decided_on: Option<String>,
    /// Day an approval must be installed by, or it lapses.
    pub install_deadline: Option<String>,
    /// The quote it was made on (as `POST /v1/quotes` answers).
    #[schema(value_type = Object)]
    pub quote: Quote,
    /// The agreement, once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<AgreementView>,
    /// Equipment installed under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installations: Option<Vec<InstallationView>>,
    /// Related resources.
    pub links: Vec<Link>,
}

impl ApplicationView {
    /// The view of an application as of `today`.
    pub fn of(a: &Application, today: Date) -> ApplicationView {
        let base = format!("/v1/applications/{}", a.id);
        ApplicationView {
            id: a.id.clone(),
            status: a.status.as_str().to_string(),
            authority: a.authority.clone(),
            organisation: a.organisation.clone(),
            assets: a.asset_ids(),
            sites: a
                .sites
                .iter()
                .map(|s| SiteView {
                    asset: s.asset.clone(),
                    kind: s.kind.as_str().to_string(),
                    ward: s.ward.clone(),
                    fee_zone: s.fee_zone.clone(),
                    shared: s.shared,
                })
                .collect(),
            term_years: a.term_years,
            start: format_date(a.start),
            install_by: format_date(a.install_by),
            equipment: a.details.equipment.clone(),
            deployment_plan: a.details.deployment_plan.clone(),
            contact: a.details.contact.clone(),
            social_value: a.details.social_value.clone(),
            site_search: a.site_search.clone(),
            submitted_at: a.submitted_at.clone(),
            decision_due: format_date(a.clock.due_on(today)),
            overdue: a.clock.is_overdue(a.status, today),
            clock: ClockView {
                period_days: a.clock.period_days,
                paused_days: a.clock.paused_days_on(today),
                paused: a.clock.paused_since.is_some(),
            },
            decided_on: a.decided_on.map(format_date),
            install_deadline: a.install_deadline.map(format_date),
            quote: a.quote.clone(),
            agreement: None,
            installations: None,
            links: vec![
                Link::json(base.clone(), "self"),
                Link::json(format!("{base}/events"), "events"),
                Link::json(format!("{base}/attachments"), "attachments"),
            ],
        }
    }

    /// The view of an application with its agreement and installations.
    pub fn of_record(r: &ApplicationRecord, today: Date) -> ApplicationView {
        let mut v = ApplicationView::of(&r.application, today);
        v.agreement = r.agreement.as_ref().map(AgreementView::of);
        v.installations = Some(r.installations.iter().map(InstallationView::of).collect());
        v
    }
}

/// A page of applications.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationList {
    /// How many match in all.
    pub number_matched: u64,
    /// How many are in this page.
    pub number_returned: usize,
    /// The page, oldest first.
    pub applications: Vec<ApplicationView>,
    /// `self`, and `next`/`prev` pages when there are more.
    pub links: Vec<Link>,
}

/// An application's audit trail.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventList {
    /// The application.
    pub application: String,
    /// Oldest first.
    pub events: Vec<Event>,
}

/// A document attached to an application.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// Its id.
    pub id: String,
    /// Name it downloads under.
    pub filename: String,
    /// What it is.
    pub description: Option<String>,
    /// Media type, judged from the bytes.
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// When (RFC 3339).
    pub uploaded_at: String,
    /// Who (the organisation).
    pub uploaded_by: String,
    /// Where to download it.
    pub href: String,
}

impl AttachmentView {
    /// The view of a document.
    pub fn of(a: &AttachmentInfo) -> AttachmentView {
        AttachmentView {
            id: a.id.clone(),
            filename: a.filename.clone(),
            description: a.description.clone(),
            content_type: a.content_type.clone(),
            size_bytes: a.size_bytes,
            sha256: a.sha256.clone(),
            uploaded_at: a.uploaded_at.clone(),
            uploaded_by: a.uploaded_by.clone(),
            href: format!("/v1/applications/{}/attachments/{}", a.application, a.id),
        }
    }
}

/// An application's documents.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentList {
    /// The application.
    pub application: String,
    /// Oldest first.
    pub attachments: Vec<AttachmentView>,
}
