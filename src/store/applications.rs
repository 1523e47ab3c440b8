//! Applications: submission with its capacity holds, the state changes that
//! follow, their audit trail, and the documents attached.
//!
//! Capacity is decided here, in the database transaction, never in memory:
//! submitting takes one unit on each asset with
//! `UPDATE assets SET in_use = in_use + 1 WHERE id = $1 AND in_use < capacity`
//! (assets in id order, so two applications sharing assets lock them in the
//! same order and cannot deadlock); an asset whose update touches no row has
//! no free capacity, and the whole application is rolled back. Every state
//! change is a conditional update on the status it starts from, so of two
//! people acting at once only one moves the application on; the other
//! learns the state it is now in.
//!
//! Documents attached to applications are in `attachments.rs`; they take the
//! same conditional-update and audit-event discipline from here.

use rust_decimal::Decimal;
use sqlx::{Any, FromRow, Transaction};
use time::Date;

use super::changes::record_change;
use super::{Store, StoreError, StoreResult, now, parse_stored};
use crate::domain::application::{
    Actor, Agreement, Application, ApplicationSite, ApplicationStatus, DecisionClock, Event,
    Installation, parse_iso_date,
};
use crate::domain::asset::format_date;

/// A random id with a prefix (`app-`, `agr-`...): unguessable, so an id
/// says nothing about how many others there are.
pub fn new_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 10];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

/// What a state change does to the sites' occupancy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Occupancy {
    /// Nothing.
    Unchanged,
    /// Gives the held units back (`in_use - 1`).
    Release,
    /// Equipment goes on (`installed + 1`; the unit stays held).
    Install,
    /// Equipment comes off and the unit is given back.
    Remove,
}

/// A state change to apply, worked out by the register from the domain
/// rules.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The application.
    pub application: &'a Application,
    /// The status it must still be in.
    pub from: ApplicationStatus,
    /// The status it moves to.
    pub to: ApplicationStatus,
    /// The clock after the change.
    pub clock: DecisionClock,
    /// Day of the decision after the change.
    pub decided_on: Option<Date>,
    /// Install-by day after the change.
    pub install_deadline: Option<Date>,
    /// What happens to the sites.
    pub occupancy: Occupancy,
    /// An agreement to make (approval).
    pub agreement: Option<&'a Agreement>,
    /// Installations to record.
    pub installations: &'a [Installation],
    /// The agreement ends (and any equipment comes off) on this day.
    pub ends_on: Option<Date>,
    /// The audit entry.
    pub event: NewEvent<'a>,
}

/// An audit entry to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// Who.
    pub actor: &'a Actor,
    /// What.
    pub action: &'a str,
    /// Status before.
    pub from: Option<ApplicationStatus>,
    /// Status after.
    pub to: Option<ApplicationStatus>,
    /// Reason or message.
    pub reason: Option<&'a str>,
    /// Anything else.
    pub detail: Option<serde_json::Value>,
}

/// Which applications to list.
#[derive(Debug, Clone, Default)]
pub struct ApplicationQuery {
    /// Only this authority's.
    pub authority: Option<String>,
    /// Only this organisation's.
    pub organisation: Option<String>,
    /// Only in this status.
    pub status: Option<ApplicationStatus>,
    /// Only those whose decision is overdue on this day.
    pub overdue_on: Option<Date>,
    /// Only those naming this asset.
    pub asset: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u64,
    /// The order of the page (oldest first unless said).
    pub sort: ApplicationSort,
    /// The first sort key descending.
    pub descending: bool,
}

/// What a list of applications is ordered by (ties by submission, then id,
/// so paging is stable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApplicationSort {
    /// When submitted.
    #[default]
    Submitted,
    /// When the decision is due.
    DecisionDue,
    /// The applying organisation.
    Organisation,
    /// The status.
    Status,
    /// How many sites.
    Sites,
}

impl ApplicationSort {
    /// The first `ORDER BY` key (a fixed expression, never user text).
    fn key(self) -> &'static str {
        match self {
            ApplicationSort::Submitted => "submitted_at",
            ApplicationSort::DecisionDue => "decision_due",
            ApplicationSort::Organisation => "organisation",
            ApplicationSort::Status => "status",
            ApplicationSort::Sites => {
                "(SELECT COUNT(*) FROM application_assets s WHERE s.application_id = applications.id)"
            }
        }
    }
}

#[derive(FromRow)]
struct ApplicationRow {
    id: String,
    authority: String,
    organisation: String,
    status: String,
    term_years: i64,
    start_on: String,
    install_by: String,
    details: String,
    site_search: Option<String>,
    quote: String,
    submitted_at: String,
    submitted_on: String,
    decision_period_days: i64,
    paused_days: i64,
    paused_since: Option<String>,
    decided_on: Option<String>,
    install_deadline: Option<String>,
}

macro_rules! application_columns {
    () => {
        "id, authority, organisation, status, term_years, start_on, install_by, details, \
         site_search, quote, submitted_at, submitted_on, decision_period_days, paused_days, \
         paused_since, decided_on, install_deadline"
    };
}

#[derive(FromRow)]
struct SiteRow {
    application_id: String,
    asset_id: String,
    kind: String,
    ward: Option<String>,
    fee_zone: Option<String>,
    power_supply: String,
    install_year: Option<i64>,
    shared: i64,
}

#[derive(FromRow)]
struct EventRow {
    seq: i64,
    at: String,
    actor_role: String,
    actor: String,
    action: String,
    from_status: Option<String>,
    to_status: Option<String>,
    reason: Option<String>,
    detail: Option<String>,
}

/// Parses a stored `YYYY-MM-DD`.
pub(super) fn stored_date(what: &str, value: &str) -> StoreResult<Date> {
    parse_iso_date(value).ok_or_else(|| StoreError::Corrupt(format!("{what} {value:?}")))
}

fn stored_opt_date(what: &str, value: Option<&str>) -> StoreResult<Option<Date>> {
    value.map(|v| stored_date(what, v)).transpose()
}

/// Parses stored money.
pub(super) fn stored_money(what: &str, value: &str) -> StoreResult<Decimal> {
    Decimal::from_str_exact(value).map_err(|_| StoreError::Corrupt(format!("{what} {value:?}")))
}

fn stored_u32(what: &str, value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value}")))
}

impl ApplicationRow {
    fn into_application(self, sites: Vec<ApplicationSite>) -> StoreResult<Application> {
        let corrupt = |what: &str, e: String| {
            StoreError::Corrupt(format!("application {}: {what}: {e}", self.id))
        };
        let details =
            serde_json::from_str(&self.details).map_err(|e| corrupt("details", e.to_string()))?;
        let quote =
            serde_json::from_str(&self.quote).map_err(|e| corrupt("quote", e.to_string()))?;
        Ok(Application {
            status: parse_stored("application status", &self.status)?,
            term_years: stored_u32("term_years", self.term_years)?,
            start: stored_date("start_on", &self.start_on)?,
            install_by: stored_date("install_by", &self.install_by)?,
            details,
            quote,
            clock: DecisionClock {
                submitted_on: stored_date("submitted_on", &self.submitted_on)?,
                period_days: stored_u32("decision_period_days", self.decision_period_days)?,
                paused_days: stored_u32("paused_days", self.paused_days)?,
                paused_since: stored_opt_date("paused_since", self.paused_since.as_deref())?,
            },
            decided_on: stored_opt_date("decided_on", self.decided_on.as_deref())?,
            install_deadline: stored_opt_date(
                "install_deadline",
                self.install_deadline.as_deref(),
            )?,
            site_search: self.site_search,
            submitted_at: self.submitted_at,
            sites,
            id: self.id,
            authority: self.authority,
            organisation: self.organisation,
        })
    }
}

impl SiteRow {
    fn into_site(self) -> StoreResult<(String, ApplicationSite)> {
        Ok((
            self.application_id,
            ApplicationSite {
                kind: parse_stored("asset kind", &self.kind)?,
                power_supply: parse_stored("power supply", &self.power_supply)?,
                install_year: self.install_year.and_then(|y| i32::try_from(y).ok()),
                shared: self.shared != 0,
                asset: self.asset_id,
                ward: self.ward,
                fee_zone: self.fee_zone,
            },
        ))
    }
}

/// `$from, $from+1, ...` for `n` values.
pub(super) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Stores a new application, holding one unit of capacity on each of its
    /// assets, all in one transaction. `Ok(Err(ids))` names every asset
    /// without free capacity; then nothing is stored or held.
    pub async fn submit_application(
        &self,
        app: &Application,
        currency: &str,
        application_fee: Decimal,
        actor: &Actor,
    ) -> StoreResult<Result<(), Vec<String>>> {
        let mut ids = app.asset_ids();
        ids.sort();
        let mut tx = self.write.begin().await?;
        let mut full = Vec::new();
        for id in &ids {
            let done = sqlx::query(
                "UPDATE assets SET in_use = in_use + 1 WHERE id = $1 AND in_use < capacity",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                full.push(id.clone());
            }
        }
        if !full.is_empty() {
            tx.rollback().await?;
            return Ok(Err(full));
        }
        let stamp = now();
        let details = serde_json::to_string(&app.details)
            .map_err(|e| StoreError::Corrupt(format!("application details: {e}")))?;
        let quote = serde_json::to_string(&app.quote)
            .map_err(|e| StoreError::Corrupt(format!("application quote: {e}")))?;
        sqlx::query(
            "INSERT INTO applications (id, authority, organisation, status, term_years, start_on, \
             install_by, details, site_search, schedule_version, currency, application_fee, quote, \
             submitted_at, submitted_on, decision_period_days, paused_days, paused_since, \
             decision_due, decided_on, install_deadline, attachment_count, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             NULL, $18, NULL, NULL, 0, $14)",
        )
        .bind(&app.id)
        .bind(&app.authority)
        .bind(&app.organisation)
        .bind(app.status.as_str())
        .bind(i64::from(app.term_years))
        .bind(format_date(app.start))
        .bind(format_date(app.install_by))
        .bind(details)
        .bind(app.site_search.as_deref())
        .bind(app.quote.schedule_version)
        .bind(currency)
        .bind(application_fee.to_string())
        .bind(quote)
        .bind(&stamp)
        .bind(format_date(app.clock.submitted_on))
        .bind(i64::from(app.clock.period_days))
        .bind(i64::from(app.clock.paused_days))
        .bind(format_date(app.clock.due()))
        .execute(&mut *tx)
        .await
        .map_err(|e| super::conflict(e, || format!("organisation {:?}", app.organisation)))?;
        for (i, s) in app.sites.iter().enumerate() {
            sqlx::query(
                "INSERT INTO application_assets (application_id, asset_id, position, kind, ward, \
                 fee_zone, power_supply, install_year, shared) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&app.id)
            .bind(&s.asset)
            .bind(i64::try_from(i).unwrap_or(i64::MAX))
            .bind(s.kind.as_str())
            .bind(s.ward.as_deref())
            .bind(s.fee_zone.as_deref())
            .bind(s.power_supply.as_str())
            .bind(s.install_year.map(i64::from))
            .bind(i64::from(s.shared))
            .execute(&mut *tx)
            .await?;
        }
        append_event(
            &mut tx,
            &app.id,
            &stamp,
            &NewEvent {
                actor,
                action: crate::domain::application::event::SUBMIT,
                from: None,
                to: Some(app.status),
                reason: None,
                detail: None,
            },
        )
        .await?;
        for id in &ids {
            record_change(&mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Applies a state change if the application is still in `change.from`;
    /// `Ok(Err(status))` gives the status it is in instead, and nothing
    /// changes.
    pub async fn apply_change(
        &self,
        change: &Change<'_>,
    ) -> StoreResult<Result<(), ApplicationStatus>> {
        let app = change.application;
        let stamp = now();
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE applications SET status = $2, paused_days = $3, paused_since = $4, \
             decision_due = $5, decided_on = $6, install_deadline = $7, updated_at = $8 \
             WHERE id = $1 AND status = $9",
        )
        .bind(&app.id)
        .bind(change.to.as_str())
        .bind(i64::from(change.clock.paused_days))
        .bind(change.clock.paused_since.map(format_date))
        .bind(format_date(change.clock.due()))
        .bind(change.decided_on.map(format_date))
        .bind(change.install_deadline.map(format_date))
        .bind(&stamp)
        .bind(change.from.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let current = self
                .application_status(&app.id)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("application {:?}", app.id)))?;
            return Ok(Err(current));
        }

        let mut ids = app.asset_ids();
        ids.sort();
        let sql = match change.occupancy {
            Occupancy::Unchanged => None,
            Occupancy::Release => Some(
                "UPDATE assets SET in_use = CASE WHEN in_use > 0 THEN in_use - 1 ELSE 0 END \
                 WHERE id = $1",
            ),
            Occupancy::Install => Some("UPDATE assets SET installed = installed + 1 WHERE id = $1"),
            Occupancy::Remove => Some(
                "UPDATE assets SET in_use = CASE WHEN in_use > 0 THEN in_use - 1 ELSE 0 END, \
                 installed = CASE WHEN installed > 0 THEN installed - 1 ELSE 0 END WHERE id = $1",
            ),
        };
        if let Some(sql) = sql {
            for id in &ids {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
                record_change(&mut tx, id).await?;
            }
        }

        if let Some(agreement) = change.agreement {
            super::ledger::insert_agreement(&mut tx, app, agreement).await?;
        }
        for i in change.installations {
            super::ledger::insert_installation(&mut tx, i, &stamp).await?;
        }
        if let Some(day) = change.ends_on {
            let day = format_date(day);
            sqlx::query(
                "UPDATE agreements SET ended_on = $2, end_reason = $3 \
                 WHERE application_id = $1 AND ended_on IS NULL",
            )
            .bind(&app.id)
            .bind(&day)
            .bind(change.event.action)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE installations SET removed_on = $2 \
                 WHERE application_id = $1 AND removed_on IS NULL",
            )
            .bind(&app.id)
            .bind(&day)
            .execute(&mut *tx)
            .await?;
        }
        append_event(&mut tx, &app.id, &stamp, &change.event).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The status of an application, if it exists.
    pub async fn application_status(&self, id: &str) -> StoreResult<Option<ApplicationStatus>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT status FROM applications WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.write)
                .await?;
        row.map(|(s,)| parse_stored("application status", &s))
            .transpose()
    }

    /// One application with its sites.
    pub async fn application(&self, id: &str) -> StoreResult<Option<Application>> {
        let row: Option<ApplicationRow> = sqlx::query_as(concat!(
            "SELECT ",
            application_columns!(),
            " FROM applications WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut sites = self.sites_of(std::slice::from_ref(&row.id)).await?;
        let sites = sites.remove(&row.id).unwrap_or_default();
        row.into_application(sites).map(Some)
    }

    /// The sites of some applications, in the order applied for.
    async fn sites_of(
        &self,
        ids: &[String],
    ) -> StoreResult<std::collections::HashMap<String, Vec<ApplicationSite>>> {
        let mut out: std::collections::HashMap<String, Vec<ApplicationSite>> =
            std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT application_id, asset_id, kind, ward, fee_zone, power_supply, install_year, \
             shared FROM application_assets WHERE application_id IN ({}) \
             ORDER BY application_id, position",
            placeholders(1, ids.len())
        );
        let mut q = sqlx::query_as::<_, SiteRow>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        for row in q.fetch_all(&self.read).await? {
            let (app, site) = row.into_site()?;
            out.entry(app).or_default().push(site);
        }
        Ok(out)
    }

    /// A page of applications matching `q`, oldest first, and how many match
    /// in all.
    pub async fn applications(&self, q: &ApplicationQuery) -> StoreResult<(u64, Vec<Application>)> {
        let mut clauses: Vec<String> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let bind = |clause: &str, value: String, binds: &mut Vec<String>| {
            binds.push(value);
            clause.replace('?', &format!("${}", binds.len()))
        };
        if let Some(a) = &q.authority {
            clauses.push(bind("authority = ?", a.clone(), &mut binds));
        }
        if let Some(o) = &q.organisation {
            clauses.push(bind("organisation = ?", o.clone(), &mut binds));
        }
        if let Some(s) = q.status {
            clauses.push(bind("status = ?", s.as_str().to_string(), &mut binds));
        }
        if let Some(day) = q.overdue_on {
            // Paused applications are `info_requested`, so never overdue.
            clauses.push(bind(
                "status IN ('submitted', 'under_review') AND decision_due < ?",
                format_date(day),
                &mut binds,
            ));
        }
        if let Some(asset) = &q.asset {
            clauses.push(bind(
                "id IN (SELECT application_id FROM application_assets WHERE asset_id = ?)",
                asset.clone(),
                &mut binds,
            ));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let count_sql = format!("SELECT COUNT(*) FROM applications{filter}");
        let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            count = count.bind(b);
        }
        let (total,) = count.fetch_one(&self.read).await?;

        let page_sql = format!(
            concat!(
                "SELECT ",
                application_columns!(),
                " FROM applications{} ORDER BY {} {}, submitted_at, id LIMIT ${} OFFSET ${}"
            ),
            filter,
            q.sort.key(),
            if q.descending { "DESC" } else { "ASC" },
            binds.len() + 1,
            binds.len() + 2
        );
        let mut page = sqlx::query_as::<_, ApplicationRow>(sqlx::AssertSqlSafe(page_sql));
        for b in &binds {
            page = page.bind(b);
        }
        let rows = page
            .bind(i64::from(q.limit))
            .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
            .fetch_all(&self.read)
            .await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut sites = self.sites_of(&ids).await?;
        let apps = rows
            .into_iter()
            .map(|r| {
                let s = sites.remove(&r.id).unwrap_or_default();
                r.into_application(s)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((u64::try_from(total).unwrap_or(0), apps))
    }

    /// Approved applications whose install-by day is before `today`.
    pub async fn lapse_candidates(&self, today: Date) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM applications WHERE status = 'approved' AND install_deadline < $1 \
             ORDER BY id LIMIT 1000",
        )
        .bind(format_date(today))
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// An application's audit trail, oldest first.
    pub async fn application_events(&self, id: &str) -> StoreResult<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT seq, at, actor_role, actor, action, from_status, to_status, reason, detail \
             FROM application_events WHERE application_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Event {
                    seq: r.seq,
                    at: r.at,
                    actor: Actor {
                        role: r.actor_role,
                        name: r.actor,
                    },
                    action: r.action,
                    from: r
                        .from_status
                        .map(|s| parse_stored("event status", &s))
                        .transpose()?,
                    to: r
                        .to_status
                        .map(|s| parse_stored("event status", &s))
                        .transpose()?,
                    reason: r.reason,
                    detail: r
                        .detail
                        .map(|d| {
                            serde_json::from_str(&d)
                                .map_err(|e| StoreError::Corrupt(format!("event detail: {e}")))
                        })
                        .transpose()?,
                })
            })
            .collect()
    }
}

pub(super) async fn self_status_in(
    tx: &mut Transaction<'static, Any>,
    id: &str,
) -> StoreResult<ApplicationStatus> {
    let (s,): (String,) = sqlx::query_as("SELECT status FROM applications WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    parse_stored("application status", &s)
}

/// Appends to the audit trail. The only statement that writes events: there
/// is no update or delete path (and the database refuses both).
pub(super) async fn append_event(
    tx: &mut Transaction<'static, Any>,
    application: &str,
    at: &str,
    e: &NewEvent<'_>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO application_events (application_id, at, actor_role, actor, action, \
         from_status, to_status, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(application)
    .bind(at)
    .bind(&e.actor.role)
    .bind(&e.actor.name)
    .bind(e.action)
    .bind(e.from.map(|s| s.as_str()))
    .bind(e.to.map(|s| s.as_str()))
    .bind(e.reason)
    .bind(e.detail.as_ref().map(|d| d.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
