//! Applications through the register: submission, every state change,
//! installations, documents and the install-by rule.
//!
//! Each write checks who may make it (`domain::application`), works out the
//! change from the rules, lets the store apply it in one transaction (where
//! capacity and the starting state are decided), and then re-publishes the
//! assets whose occupancy changed so searches see it at once. Reads are
//! scoped the same way: an application its caller may not see does not
//! exist for that caller.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use time::Date;

use super::Register;
use crate::domain::access::Principal;
use crate::domain::application::{
    Action, Actor, Agreement, Application, ApplicationForm, ApplicationRequest, ApplicationSite,
    ApplicationStatus, AttachmentInfo, DecisionClock, Event, Installation, Permission, can_see,
    has_lapsed, install_deadline, permission, transition,
};
use crate::domain::asset::{AssetStatus, InvalidField};
use crate::domain::attachment::{self, DocumentType};
use crate::domain::fees;
use crate::domain::installation::{InstallationForm, InstallationRequest};
use crate::domain::ledger::{AgreementSite, agreement_charges};
use crate::store::{
    ApplicationQuery, ApplicationSort, AttachRefusal, Change, NewEvent, Occupancy, StoreError,
    new_id,
};

/// Why an application request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Bad fields, every one named.
    #[error("invalid request")]
    Invalid(Vec<InvalidField>),
    /// No such application for this caller (it may exist for others).
    #[error("{0}")]
    NotFound(String),
    /// The caller sees the application but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The application is not in a state that allows this.
    #[error("{message}")]
    WrongState {
        /// What was refused, for people.
        message: String,
        /// The state it is in.
        current: ApplicationStatus,
    },
    /// Some assets have no free capacity; nothing was held.
    #[error("{message}")]
    NoCapacity {
        /// What was refused, for people.
        message: String,
        /// Every asset without free capacity.
        assets: Vec<String>,
    },
    /// Another conflict (too many documents).
    #[error("{0}")]
    Conflict(String),
}

impl From<Vec<InvalidField>> for ApplicationError {
    fn from(v: Vec<InvalidField>) -> Self {
        ApplicationError::Invalid(v)
    }
}

impl From<InvalidField> for ApplicationError {
    fn from(f: InvalidField) -> Self {
        ApplicationError::Invalid(vec![f])
    }
}

/// Result alias for this module.
pub type ApplicationResult<T> = Result<T, ApplicationError>;

/// An application with what followed from it.
#[derive(Debug, Clone)]
pub struct ApplicationRecord {
    /// The application.
    pub application: Application,
    /// The agreement its approval made, if any.
    pub agreement: Option<Agreement>,
    /// Equipment installed under it.
    pub installations: Vec<Installation>,
}

/// A page of applications.
#[derive(Debug, Clone)]
pub struct ApplicationPage {
    /// How many match in all.
    pub number_matched: u64,
    /// This page.
    pub applications: Vec<Application>,
}

/// What a list of applications is narrowed to (the caller's scope is added
/// by the register).
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    /// Only in this status.
    pub status: Option<ApplicationStatus>,
    /// Only overdue ones.
    pub overdue: bool,
    /// Only those naming this asset.
    pub asset: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u64,
    /// Only this organisation's (an operator's own scope always wins).
    pub organisation: Option<String>,
    /// The order of the page.
    pub sort: ApplicationSort,
    /// The first sort key descending.
    pub descending: bool,
}

fn not_found(id: &str) -> ApplicationError {
    ApplicationError::NotFound(format!("application {id:?} not found"))
}

fn wrong_state(action: Action, current: ApplicationStatus) -> ApplicationError {
    ApplicationError::WrongState {
        message: format!("cannot {action} an application that is {current}"),
        current,
    }
}

impl Register {
    /// Submits an application for `principal`'s organisation, on `today`.
    pub async fn submit_application(
        &self,
        principal: &Principal,
        req: &ApplicationRequest,
        today: Date,
    ) -> ApplicationResult<ApplicationRecord> {
        let Principal::Operator { organisation } = principal else {
            return Err(ApplicationError::Forbidden(
                "applications are made with an operator's token".into(),
            ));
        };
        let seeded = self.seed_from_site_search(principal, req).await?;
        let form = ApplicationForm::parse(seeded.as_ref().unwrap_or(req), today)?;

        // The sites, all of one authority and offered.
        let snap = self.assets().snapshot();
        let mut problems = Vec::new();
        let mut sites = Vec::with_capacity(form.assets.len());
        let mut authorities = BTreeSet::new();
        for (i, id) in form.assets.iter().enumerate() {
            match snap.get(id) {
                None => problems.push(InvalidField::new(
                    format!("assets[{i}]"),
                    format!("no asset {id:?}"),
                )),
                Some(l) if l.asset.details.status != AssetStatus::Available => {
                    problems.push(InvalidField::new(
                        format!("assets[{i}]"),
                        format!("asset {id:?} is not available for attachments"),
                    ))
                }
                Some(l) => {
                    authorities.insert(l.asset.authority.clone());
                    sites.push(ApplicationSite::from_asset(&l.asset, l.asset.is_shared()));
                }
            }
        }
        if authorities.len() > 1 {
            problems.push(InvalidField::new(
                "assets",
                format!(
                    "all assets must belong to one authority; these belong to {}",
                    authorities.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if !problems.is_empty() {
            return Err(problems.into());
        }
        let authority = authorities.into_iter().next().unwrap_or_default();

        // The quote it is made on: the schedule in effect on the start date.
        let Some(published) = self.schedule_in_effect(&authority, form.start) else {
            return Err(InvalidField::new(
                "start",
                format!(
                    "authority {authority:?} has no fee schedule in effect on {}",
                    crate::domain::asset::format_date(form.start)
                ),
            )
            .into());
        };
        let terms = fees::QuoteTerms {
            term_years: form.term_years,
            start: form.start,
            discount_rate: None,
        };
        let quote_sites: Vec<_> = sites.iter().map(ApplicationSite::quote_site).collect();
        let quote = fees::quote(
            &authority,
            &published.schedule,
            published.version,
            &quote_sites,
            &terms,
        )?;
        let settings = self.store.application_settings(&authority).await?;
        let app = Application {
            id: new_id("app"),
            authority: authority.to_string(),
            organisation: organisation.clone(),
            status: ApplicationStatus::Submitted,
            term_years: form.term_years,
            start: form.start,
            install_by: form.install_by,
            details: form.details,
            site_search: form.site_search,
            submitted_at: String::new(),
            clock: DecisionClock::start(today, settings.decision_period_days),
            decided_on: None,
            install_deadline: None,
            sites,
            quote,
        };
        let held = self
            .store
            .submit_application(
                &app,
                &published.schedule.currency,
                app.quote.application_fee,
                &Actor::of(principal),
            )
            .await?;
        if let Err(full) = held {
            return Err(ApplicationError::NoCapacity {
                message: format!(
                    "no free capacity on {}; nothing was held",
                    full.iter()
                        .map(|a| format!("{a:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                assets: full,
            });
        }
        self.refresh_assets(&app.asset_ids()).await?;
        self.application_record(principal, &app.id).await
    }

    /// With `site_search` set: the saved search must be one the caller may
    /// see (else 422 naming `site_search`); when `assets` is omitted the
    /// search's chosen sites are applied for, in rank order, and when given
    /// every asset must be one the search chose. Returns the request with
    /// its assets filled in, when they were.
    async fn seed_from_site_search(
        &self,
        principal: &Principal,
        req: &ApplicationRequest,
    ) -> ApplicationResult<Option<ApplicationRequest>> {
        let Some(id) = req.site_search.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let Some(saved) = self.site_search(principal, id).await? else {
            return Err(InvalidField::new(
                "site_search",
                format!("no saved site search {id:?} that this token may see"),
            )
            .into());
        };
        match &req.assets {
            None => {
                if saved.sites.is_empty() {
                    return Err(InvalidField::new(
                        "site_search",
                        format!("site search {id:?} chose no sites"),
                    )
                    .into());
                }
                let mut seeded = req.clone();
                seeded.assets = Some(saved.sites);
                Ok(Some(seeded))
            }
            Some(list) => {
                let strangers: Vec<InvalidField> = list
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| !saved.sites.contains(a))
                    .map(|(i, a)| {
                        InvalidField::new(
                            format!("assets[{i}]"),
                            format!("asset {a:?} was not chosen by site search {id:?}"),
                        )
                    })
                    .collect();
                if strangers.is_empty() {
                    Ok(None)
                } else {
                    Err(strangers.into())
                }
            }
        }
    }

    /// An application `principal` may see.
    pub async fn application(
        &self,
        principal: &Principal,
        id: &str,
    ) -> ApplicationResult<Application> {
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if can_see(principal, &app.parties()) {
            Ok(app)
        } else {
            Err(not_found(id))
        }
    }

    /// An application with its agreement and installations.
    pub async fn application_record(
        &self,
        principal: &Principal,
        id: &str,
    ) -> ApplicationResult<ApplicationRecord> {
        let application = self.application(principal, id).await?;
        let agreement = self.store.agreement_of(id).await?;
        let installations = self.store.installations_of(id).await?;
        Ok(ApplicationRecord {
            application,
            agreement,
            installations,
        })
    }

    /// A page of the applications `principal` may see, oldest first.
    pub async fn applications(
        &self,
        principal: &Principal,
        filter: &ApplicationFilter,
        today: Date,
    ) -> ApplicationResult<ApplicationPage> {
        let mut q = ApplicationQuery {
            status: filter.status,
            overdue_on: filter.overdue.then_some(today),
            asset: filter.asset.clone(),
            limit: filter.limit,
            offset: filter.offset,
            organisation: filter.organisation.clone(),
            sort: filter.sort,
            descending: filter.descending,
            ..ApplicationQuery::default()
        };
        match principal {
            Principal::Admin => {}
            Principal::Staff { authority } => q.authority = Some(authority.clone()),
            Principal::Operator { organisation } => q.organisation = Some(organisation.clone()),
        }
        let (number_matched, applications) = self.store.applications(&q).await?;
        Ok(ApplicationPage {
            number_matched,
            applications,
        })
    }

    /// An application's audit trail.
    pub async fn application_events(
        &self,
        principal: &Principal,
        id: &str,
    ) -> ApplicationResult<Vec<Event>> {
        self.application(principal, id).await?;
        Ok(self.store.application_events(id).await?)
    }

    /// Loads an application and checks `principal` may take `action` on it
    /// now.
    async fn for_action(
        &self,
        principal: &Principal,
        id: &str,
        action: Action,
    ) -> ApplicationResult<Application> {
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| not_found(id))?;
        match permission(principal, &app.parties(), action) {
            Permission::Hidden => return Err(not_found(id)),
            Permission::Forbidden => {
                return Err(ApplicationError::Forbidden(format!(
                    "this {} token may not {action} this application",
                    principal.role()
                )));
            }
            Permission::Allowed => {}
        }
        transition(app.status, action).map_err(|e| wrong_state(e.action, e.current))?;
        Ok(app)
    }

    /// Takes `action` (review, request_info, respond, approve, reject,
    /// withdraw, terminate) with an optional reason, on `today`.
    pub async fn act_on_application(
        &self,
        principal: &Principal,
        id: &str,
        action: Action,
        reason: Option<&str>,
        today: Date,
    ) -> ApplicationResult<ApplicationRecord> {
        if matches!(action, Action::Install | Action::Lapse) {
            return Err(ApplicationError::Forbidden(format!(
                "{action} is not taken this way"
            )));
        }
        let app = self.for_action(principal, id, action).await?;
        self.apply(&app, action, Actor::of(principal), reason, &[], None, today)
            .await?;
        self.application_record(principal, id).await
    }

    /// Records the installation of all an approved application's sites.
    pub async fn record_installation(
        &self,
        principal: &Principal,
        id: &str,
        req: &InstallationRequest,
        today: Date,
    ) -> ApplicationResult<ApplicationRecord> {
        let app = self.for_action(principal, id, Action::Install).await?;
        let approved_on = app.decided_on.unwrap_or(app.clock.submitted_on);
        let form = InstallationForm::parse(req, &app.asset_ids(), approved_on, today)?;
        let installations: Vec<Installation> = app
            .sites
            .iter()
            .map(|s| Installation {
                id: new_id("ins"),
                application: app.id.clone(),
                asset: s.asset.clone(),
                authority: app.authority.clone(),
                organisation: app.organisation.clone(),
                carrier: form.carrier.clone(),
                technology: form.technology.clone(),
                equipment: form.equipment.get(&s.asset).cloned().unwrap_or_default(),
                installed_on: form.installed_on,
                contact_24h: form.contact_24h.clone(),
                recorded_at: String::new(),
                removed_on: None,
            })
            .collect();
        let detail = serde_json::json!({
            "carrier": form.carrier,
            "technology": form.technology,
            "installed_on": crate::domain::asset::format_date(form.installed_on),
            "sites": form.equipment,
        });
        self.apply(
            &app,
            Action::Install,
            Actor::of(principal),
            None,
            &installations,
            Some(detail),
            today,
        )
        .await?;
        self.application_record(principal, id).await
    }

    /// Lapses every approval whose install-by day passed before `today`
    /// without an installation, releasing its sites; returns how many.
    /// The server runs this periodically; any replica may, since each lapse
    /// is a conditional update that only one can win.
    pub async fn lapse_overdue(&self, today: Date) -> ApplicationResult<usize> {
        let mut lapsed = 0;
        for id in self.store.lapse_candidates(today).await? {
            let Some(app) = self.store.application(&id).await? else {
                continue;
            };
            let Some(deadline) = app.install_deadline else {
                continue;
            };
            if !has_lapsed(app.status, deadline, today) {
                continue;
            }
            match self
                .apply(
                    &app,
                    Action::Lapse,
                    Actor::install_by_rule(),
                    None,
                    &[],
                    None,
                    today,
                )
                .await
            {
                Ok(()) => lapsed += 1,
                // Installed or lapsed meanwhile by another replica.
                Err(ApplicationError::WrongState { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(lapsed)
    }

    /// Works out the change `action` makes and applies it.
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        app: &Application,
        action: Action,
        actor: Actor,
        reason: Option<&str>,
        installations: &[Installation],
        detail: Option<serde_json::Value>,
        today: Date,
    ) -> ApplicationResult<()> {
        let to = transition(app.status, action).map_err(|e| wrong_state(e.action, e.current))?;
        let mut clock = app.clock;
        let mut decided_on = app.decided_on;
        let mut deadline = app.install_deadline;
        let mut agreement = None;
        let mut ends_on = None;
        let occupancy = match action {
            Action::Review | Action::Install => {
                if action == Action::Install {
                    Occupancy::Install
                } else {
                    Occupancy::Unchanged
                }
            }
            Action::RequestInfo => {
                clock = clock.pause(today);
                Occupancy::Unchanged
            }
            Action::Respond => {
                clock = clock.resume(today);
                Occupancy::Unchanged
            }
            Action::Approve => {
                decided_on = Some(today);
                let settings = self.store.application_settings(&app.authority).await?;
                deadline = Some(install_deadline(today, &settings));
                agreement = Some(self.agreement_for(app, today)?);
                Occupancy::Unchanged
            }
            Action::Reject => {
                decided_on = Some(today);
                Occupancy::Release
            }
            Action::Withdraw => Occupancy::Release,
            Action::Lapse => {
                ends_on = Some(today);
                Occupancy::Release
            }
            Action::Terminate => {
                ends_on = Some(today);
                Occupancy::Remove
            }
        };
        let actor_ref = &actor;
        let change = Change {
            application: app,
            from: app.status,
            to,
            clock,
            decided_on,
            install_deadline: deadline,
            occupancy: occupancy.clone(),
            agreement: agreement.as_ref(),
            installations,
            ends_on,
            event: NewEvent {
                actor: actor_ref,
                action: action.as_str(),
                from: Some(app.status),
                to: Some(to),
                reason,
                detail,
            },
        };
        if let Err(current) = self.store.apply_change(&change).await? {
            return Err(wrong_state(action, current));
        }
        if occupancy != Occupancy::Unchanged {
            self.refresh_assets(&app.asset_ids()).await?;
        }
        Ok(())
    }

    /// The agreement an approval on `today` makes: the sites as priced when
    /// applied for, under the schedule version the quote named.
    fn agreement_for(&self, app: &Application, today: Date) -> ApplicationResult<Agreement> {
        let history = self.fee_schedule_history(&app.authority);
        let published = history
            .iter()
            .find(|p| p.version == app.quote.schedule_version)
            .ok_or_else(|| {
                ApplicationError::Store(StoreError::Corrupt(format!(
                    "application {}: fee schedule version {} of {} is missing",
                    app.id, app.quote.schedule_version, app.authority
                )))
            })?;
        let sites: Vec<AgreementSite> = app
            .sites
            .iter()
            .map(|s| AgreementSite {
                site: s.quote_site(),
                ward: s.ward.clone(),
            })
            .collect();
        let (_, charges) = agreement_charges(
            &app.authority,
            &published.schedule,
            published.version,
            &sites,
            &app.terms(),
        )?;
        Ok(Agreement {
            id: new_id("agr"),
            application: app.id.clone(),
            schedule_version: published.version,
            currency: published.schedule.currency.clone(),
            start: app.start,
            term_years: app.term_years,
            made_on: today,
            ended_on: None,
            end_reason: None,
            charges,
        })
    }

    /// Attaches a document to an open application of `principal`'s
    /// organisation: its type is taken from the bytes, which must match the
    /// declared `content_type`.
    #[allow(clippy::too_many_arguments)]
    pub async fn attach_document(
        &self,
        principal: &Principal,
        id: &str,
        filename: &str,
        description: Option<&str>,
        content_type: &str,
        content: &[u8],
    ) -> ApplicationResult<AttachmentInfo> {
        let app = self.application(principal, id).await?;
        if !principal.can_act_for_organisation(&app.organisation) {
            return Err(ApplicationError::Forbidden(
                "documents are attached by the applying operator".into(),
            ));
        }
        let mut problems = Vec::new();
        let filename = attachment::file_name(filename)
            .map_err(|e| problems.push(e))
            .ok();
        let description = match description.map(str::trim) {
            Some(d) if d.chars().count() > crate::domain::application::MAX_SHORT_TEXT => {
                problems.push(InvalidField::new(
                    "description",
                    "must be at most 200 characters",
                ));
                None
            }
            Some("") | None => None,
            Some(d) => Some(d.to_string()),
        };
        if !problems.is_empty() {
            return Err(problems.into());
        }
        let kind: DocumentType = attachment::check(content_type, content).map_err(|r| {
            ApplicationError::Invalid(vec![InvalidField::new("content", r.to_string())])
        })?;
        let mut info = AttachmentInfo {
            id: new_id("doc"),
            application: app.id.clone(),
            filename: filename.unwrap_or_default(),
            description,
            content_type: kind.media_type().to_string(),
            size_bytes: content.len() as u64,
            sha256: Sha256::digest(content)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            uploaded_at: String::new(),
            uploaded_by: Actor::of(principal).name,
        };
        match self
            .store
            .add_attachment(
                &info,
                content,
                attachment::MAX_PER_APPLICATION,
                &Actor::of(principal),
            )
            .await?
        {
            Ok(stored_at) => {
                info.uploaded_at = stored_at;
                Ok(info)
            }
            Err(AttachRefusal::Closed(current)) => Err(ApplicationError::WrongState {
                message: format!(
                    "documents are attached before the decision; this application is {current}"
                ),
                current,
            }),
            Err(AttachRefusal::TooMany) => Err(ApplicationError::Conflict(format!(
                "an application carries at most {} documents",
                attachment::MAX_PER_APPLICATION
            ))),
        }
    }

    /// The documents of an application `principal` may see.
    pub async fn documents(
        &self,
        principal: &Principal,
        id: &str,
    ) -> ApplicationResult<Vec<AttachmentInfo>> {
        self.application(principal, id).await?;
        Ok(self.store.attachments(id).await?)
    }

    /// One document with its bytes.
    pub async fn document(
        &self,
        principal: &Principal,
        id: &str,
        document: &str,
    ) -> ApplicationResult<(AttachmentInfo, Vec<u8>)> {
        self.application(principal, id).await?;
        self.store
            .attachment(id, document)
            .await?
            .ok_or_else(|| ApplicationError::NotFound(format!("document {document:?} not found")))
    }

    /// The equipment on an asset now.
    pub async fn installations_on(&self, asset: &str) -> ApplicationResult<Vec<Installation>> {
        Ok(self.store.installations_on(asset).await?)
    }

    /// One installation `principal` may see (the operator's own, its
    /// council's staff, admin).
    pub async fn installation(
        &self,
        principal: &Principal,
        id: &str,
    ) -> ApplicationResult<Option<Installation>> {
        let found = self.store.installation(id).await?;
        Ok(found.filter(|i| {
            can_see(
                principal,
                &crate::domain::application::Parties {
                    authority: &i.authority,
                    organisation: &i.organisation,
                },
            )
        }))
    }

    /// A page of the equipment in place that `principal` may see: staff
    /// their authority's, admin all, operators none (`None`).
    pub async fn installations_in_place(
        &self,
        principal: &Principal,
        limit: u32,
        offset: u64,
    ) -> ApplicationResult<Option<(u64, Vec<Installation>)>> {
        let authority = match principal {
            Principal::Admin => None,
            Principal::Staff { authority } => Some(authority.as_str()),
            Principal::Operator { .. } => return Ok(None),
        };
        Ok(Some(
            self.store
                .installations_in_place(authority, limit, offset)
                .await?,
        ))
    }
}
