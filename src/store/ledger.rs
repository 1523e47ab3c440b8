//! Agreements, their charges, installations, each council's application
//! periods, and the charges the ledger is made of.
//!
//! An agreement's charges are written once, when it is made, site by site
//! and year by year: the ledger then reads what was agreed, and never moves
//! when a fee schedule, an asset's placement or the quote engine changes
//! later. An agreement that ends keeps its rows; charges due after the day
//! it ended are left out when read (`domain::ledger::falls_due`).

use sqlx::{Any, FromRow, Transaction};
use time::Date;

use super::applications::{placeholders, stored_date, stored_money};
use super::{Store, StoreError, StoreResult, now, parse_stored};
use crate::domain::application::{Agreement, Application, ApplicationSettings, Installation};
use crate::domain::asset::format_date;
use crate::domain::installation::EmergencyContact;
use crate::domain::ledger::{
    AgreementCharge, Charge, ChargeKind, FeeSite, application_fee_charges, falls_due,
};

/// Rows per multi-row insert of charges (8 values each: well under both
/// databases' limits on bound values).
const CHARGE_CHUNK: usize = 500;

#[derive(FromRow)]
struct AgreementRow {
    id: String,
    application_id: String,
    schedule_version: i64,
    currency: String,
    start_on: String,
    term_years: i64,
    made_on: String,
    ended_on: Option<String>,
    end_reason: Option<String>,
}

#[derive(FromRow)]
struct ChargeRow {
    asset_id: String,
    charge: String,
    year: i64,
    due_on: String,
    amount: String,
    subsidy: String,
}

#[derive(FromRow)]
struct InstallationRow {
    id: String,
    application_id: String,
    asset_id: String,
    authority: String,
    organisation: String,
    carrier: String,
    technology: String,
    equipment: String,
    installed_on: String,
    contact_name: String,
    contact_phone: String,
    recorded_at: String,
    removed_on: Option<String>,
}

macro_rules! installation_columns {
    () => {
        "id, application_id, asset_id, authority, organisation, carrier, technology, equipment, \
         installed_on, contact_name, contact_phone, recorded_at, removed_on"
    };
}

impl InstallationRow {
    fn parse(self) -> StoreResult<Installation> {
        Ok(Installation {
            installed_on: stored_date("installed_on", &self.installed_on)?,
            removed_on: self
                .removed_on
                .as_deref()
                .map(|d| stored_date("removed_on", d))
                .transpose()?,
            id: self.id,
            application: self.application_id,
            asset: self.asset_id,
            authority: self.authority,
            organisation: self.organisation,
            carrier: self.carrier,
            technology: self.technology,
            equipment: self.equipment,
            contact_24h: EmergencyContact {
                name: self.contact_name,
                phone: self.contact_phone,
            },
            recorded_at: self.recorded_at,
        })
    }
}

impl ChargeRow {
    fn parse(self) -> StoreResult<AgreementCharge> {
        Ok(AgreementCharge {
            kind: ChargeKind::parse(&self.charge)
                .ok_or_else(|| StoreError::Corrupt(format!("charge {:?}", self.charge)))?,
            year: u32::try_from(self.year)
                .map_err(|_| StoreError::Corrupt(format!("charge year {}", self.year)))?,
            due_on: stored_date("due_on", &self.due_on)?,
            amount: stored_money("amount", &self.amount)?,
            subsidy: stored_money("subsidy", &self.subsidy)?,
            asset: self.asset_id,
        })
    }
}

/// Writes an agreement and its charges (inside an approval's transaction).
pub(super) async fn insert_agreement(
    tx: &mut Transaction<'static, Any>,
    app: &Application,
    a: &Agreement,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO agreements (id, application_id, authority, organisation, schedule_version, \
         currency, start_on, term_years, made_on, ended_on, end_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL)",
    )
    .bind(&a.id)
    .bind(&app.id)
    .bind(&app.authority)
    .bind(&app.organisation)
    .bind(a.schedule_version)
    .bind(&a.currency)
    .bind(format_date(a.start))
    .bind(i64::from(a.term_years))
    .bind(format_date(a.made_on))
    .execute(&mut **tx)
    .await?;
    for chunk in a.charges.chunks(CHARGE_CHUNK) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(i * 8 + 1, 8)))
            .collect();
        let sql = format!(
            "INSERT INTO agreement_charges (agreement_id, asset_id, charge, year, due_on, \
             authority, amount, subsidy) VALUES {}",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = q
                .bind(&a.id)
                .bind(&c.asset)
                .bind(c.kind.as_str())
                .bind(i64::from(c.year))
                .bind(format_date(c.due_on))
                .bind(&app.authority)
                .bind(c.amount.to_string())
                .bind(c.subsidy.to_string());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes one installation (inside the installation's transaction).
pub(super) async fn insert_installation(
    tx: &mut Transaction<'static, Any>,
    i: &Installation,
    recorded_at: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO installations (id, application_id, asset_id, authority, organisation, \
         carrier, technology, equipment, installed_on, contact_name, contact_phone, recorded_at, \
         removed_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL)",
    )
    .bind(&i.id)
    .bind(&i.application)
    .bind(&i.asset)
    .bind(&i.authority)
    .bind(&i.organisation)
    .bind(&i.carrier)
    .bind(&i.technology)
    .bind(&i.equipment)
    .bind(format_date(i.installed_on))
    .bind(&i.contact_24h.name)
    .bind(&i.contact_24h.phone)
    .bind(recorded_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// A council's periods (the defaults when it has set none).
    pub async fn application_settings(&self, authority: &str) -> StoreResult<ApplicationSettings> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT decision_period_days, install_by_days FROM authority_settings \
             WHERE authority = $1",
        )
        .bind(authority)
        .fetch_optional(&self.read)
        .await?;
        let Some((d, i)) = row else {
            return Ok(ApplicationSettings::default());
        };
        let days = |v: i64| {
            u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("settings of {authority}")))
        };
        Ok(ApplicationSettings {
            decision_period_days: days(d)?,
            install_by_days: days(i)?,
        })
    }

    /// Sets a council's periods (for applications submitted or approved
    /// from now on).
    pub async fn set_application_settings(
        &self,
        authority: &str,
        s: &ApplicationSettings,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO authority_settings (authority, decision_period_days, install_by_days, \
             updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (authority) DO UPDATE SET \
             decision_period_days = excluded.decision_period_days, \
             install_by_days = excluded.install_by_days, updated_at = excluded.updated_at",
        )
        .bind(authority)
        .bind(i64::from(s.decision_period_days))
        .bind(i64::from(s.install_by_days))
        .bind(now())
        .execute(&self.write)
        .await
        .map_err(|e| super::conflict(e, || format!("authority {authority:?}")))?;
        Ok(())
    }

    /// The agreement an application's approval made, with its charges.
    pub async fn agreement_of(&self, application: &str) -> StoreResult<Option<Agreement>> {
        let row: Option<AgreementRow> = sqlx::query_as(
            "SELECT id, application_id, schedule_version, currency, start_on, term_years, \
             made_on, ended_on, end_reason FROM agreements WHERE application_id = $1",
        )
        .bind(application)
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let charges: Vec<ChargeRow> = sqlx::query_as(
            "SELECT asset_id, charge, year, due_on, amount, subsidy FROM agreement_charges \
             WHERE agreement_id = $1 ORDER BY asset_id, charge, year",
        )
        .bind(&r.id)
        .fetch_all(&self.read)
        .await?;
        Ok(Some(Agreement {
            start: stored_date("start_on", &r.start_on)?,
            made_on: stored_date("made_on", &r.made_on)?,
            ended_on: r
                .ended_on
                .as_deref()
                .map(|d| stored_date("ended_on", d))
                .transpose()?,
            term_years: u32::try_from(r.term_years)
                .map_err(|_| StoreError::Corrupt(format!("agreement {} term", r.id)))?,
            charges: charges
                .into_iter()
                .map(ChargeRow::parse)
                .collect::<StoreResult<_>>()?,
            id: r.id,
            application: r.application_id,
            schedule_version: r.schedule_version,
            currency: r.currency,
            end_reason: r.end_reason,
        }))
    }

    /// The installations made under an application.
    pub async fn installations_of(&self, application: &str) -> StoreResult<Vec<Installation>> {
        let rows: Vec<InstallationRow> = sqlx::query_as(concat!(
            "SELECT ",
            installation_columns!(),
            " FROM installations WHERE application_id = $1 ORDER BY asset_id"
        ))
        .bind(application)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(InstallationRow::parse).collect()
    }

    /// One installation by id.
    pub async fn installation(&self, id: &str) -> StoreResult<Option<Installation>> {
        let row: Option<InstallationRow> = sqlx::query_as(concat!(
            "SELECT ",
            installation_columns!(),
            " FROM installations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.map(InstallationRow::parse).transpose()
    }

    /// The equipment on an asset now (not yet removed).
    pub async fn installations_on(&self, asset: &str) -> StoreResult<Vec<Installation>> {
        let rows: Vec<InstallationRow> = sqlx::query_as(concat!(
            "SELECT ",
            installation_columns!(),
            " FROM installations WHERE asset_id = $1 AND removed_on IS NULL ORDER BY installed_on, id"
        ))
        .bind(asset)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(InstallationRow::parse).collect()
    }

    /// A page of the equipment in place on an authority's assets (every
    /// authority's when `None`), by id, and how many there are.
    pub async fn installations_in_place(
        &self,
        authority: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> StoreResult<(u64, Vec<Installation>)> {
        let filter = if authority.is_some() {
            " AND authority = $3"
        } else {
            ""
        };
        let count_sql = format!(
            "SELECT COUNT(*) FROM installations WHERE removed_on IS NULL{}",
            filter.replace("$3", "$1")
        );
        let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count_sql));
        if let Some(a) = authority {
            count = count.bind(a);
        }
        let (total,) = count.fetch_one(&self.read).await?;
        let sql = format!(
            concat!(
                "SELECT ",
                installation_columns!(),
                " FROM installations WHERE removed_on IS NULL{} ORDER BY id LIMIT $1 OFFSET $2"
            ),
            filter
        );
        let mut q = sqlx::query_as::<_, InstallationRow>(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX));
        if let Some(a) = authority {
            q = q.bind(a);
        }
        let rows = q.fetch_all(&self.read).await?;
        Ok((
            u64::try_from(total).unwrap_or(0),
            rows.into_iter()
                .map(InstallationRow::parse)
                .collect::<StoreResult<_>>()?,
        ))
    }

    /// Every charge falling due to `authority` between `from` and `to`
    /// (inclusive; open-ended when `None`): application fees shared out over
    /// their sites, and agreements' rent and site fees still in force on
    /// their due dates.
    pub async fn charges(
        &self,
        authority: &str,
        from: Option<Date>,
        to: Option<Date>,
    ) -> StoreResult<Vec<Charge>> {
        let from = from.map_or_else(|| "0000-01-01".to_string(), format_date);
        let to = to.map_or_else(|| "9999-12-31".to_string(), format_date);
        let mut out = Vec::new();

        // Application fees: one per application, shared over its sites.
        let apps: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, organisation, submitted_on, currency, application_fee FROM applications \
             WHERE authority = $1 AND submitted_on >= $2 AND submitted_on <= $3 ORDER BY id",
        )
        .bind(authority)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.read)
        .await?;
        let sites: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT s.application_id, s.asset_id, s.kind, s.ward FROM application_assets s \
             JOIN applications a ON a.id = s.application_id \
             WHERE a.authority = $1 AND a.submitted_on >= $2 AND a.submitted_on <= $3 \
             ORDER BY s.application_id, s.position",
        )
        .bind(authority)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.read)
        .await?;
        let mut by_app: std::collections::HashMap<String, Vec<FeeSite>> =
            std::collections::HashMap::new();
        for (app, asset, kind, ward) in sites {
            by_app.entry(app).or_default().push(FeeSite {
                asset,
                asset_kind: parse_stored("asset kind", &kind)?,
                ward,
            });
        }
        for (id, operator, submitted_on, currency, fee) in apps {
            let sites = by_app.remove(&id).unwrap_or_default();
            out.extend(application_fee_charges(
                &id,
                &operator,
                stored_date("submitted_on", &submitted_on)?,
                &currency,
                stored_money("application_fee", &fee)?,
                &sites,
            ));
        }

        // Agreements' charges.
        #[derive(FromRow)]
        struct Row {
            agreement_id: String,
            application_id: String,
            organisation: String,
            currency: String,
            ended_on: Option<String>,
            asset_id: String,
            charge: String,
            year: i64,
            due_on: String,
            amount: String,
            subsidy: String,
            kind: String,
            ward: Option<String>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.agreement_id, g.application_id, g.organisation, g.currency, g.ended_on, \
             c.asset_id, c.charge, c.year, c.due_on, c.amount, c.subsidy, s.kind, s.ward \
             FROM agreement_charges c \
             JOIN agreements g ON g.id = c.agreement_id \
             JOIN application_assets s ON s.application_id = g.application_id \
                  AND s.asset_id = c.asset_id \
             WHERE c.authority = $1 AND c.due_on >= $2 AND c.due_on <= $3 \
             ORDER BY c.due_on, c.agreement_id, c.asset_id, c.charge, c.year",
        )
        .bind(authority)
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.read)
        .await?;
        for r in rows {
            let due_on = stored_date("due_on", &r.due_on)?;
            let ended = r
                .ended_on
                .as_deref()
                .map(|d| stored_date("ended_on", d))
                .transpose()?;
            if !falls_due(due_on, ended) {
                continue;
            }
            let kind = ChargeKind::parse(&r.charge)
                .ok_or_else(|| StoreError::Corrupt(format!("charge {:?}", r.charge)))?;
            out.push(Charge {
                kind,
                application: r.application_id,
                agreement: Some(r.agreement_id),
                agreement_year: (kind == ChargeKind::Rent)
                    .then(|| u32::try_from(r.year).unwrap_or(0)),
                operator: r.organisation,
                asset: r.asset_id,
                asset_kind: parse_stored("asset kind", &r.kind)?,
                ward: r.ward,
                due_on,
                currency: r.currency,
                amount: stored_money("amount", &r.amount)?,
                subsidy: stored_money("subsidy", &r.subsidy)?,
            });
        }
        Ok(out)
    }
}
