//! Fee schedules: versioned, never overwritten.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult, conflict, now};
use crate::domain::asset::format_date;
use crate::domain::fee_versions::PublishedSchedule;
use crate::domain::fees::FeeSchedule;

#[derive(FromRow)]
struct Row {
    authority: String,
    version: i64,
    document: String,
    published_at: String,
}

impl Row {
    fn parse(self) -> StoreResult<PublishedSchedule> {
        let schedule = serde_json::from_str(&self.document).map_err(|e| {
            StoreError::Corrupt(format!(
                "fee schedule {} v{}: {e}",
                self.authority, self.version
            ))
        })?;
        Ok(PublishedSchedule {
            authority: self.authority,
            version: self.version,
            published_at: self.published_at,
            schedule,
        })
    }
}

impl Store {
    /// Publishes a new version of `authority`'s schedule and returns it.
    /// Two publishers racing for the same version number: one gets a
    /// conflict instead of both writing. With `expect_latest`, the newest
    /// version must be that one (0: none yet), else [`StoreError::Stale`].
    pub async fn publish_fee_schedule(
        &self,
        authority: &str,
        schedule: &FeeSchedule,
        expect_latest: Option<i64>,
    ) -> StoreResult<PublishedSchedule> {
        let mut tx = self.write.begin().await?;
        let (latest,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM fee_schedules WHERE authority = $1")
                .bind(authority)
                .fetch_one(&mut *tx)
                .await?;
        let latest = latest.unwrap_or(0);
        if let Some(expected) = expect_latest
            && expected != latest
        {
            return Err(StoreError::Stale { current: latest });
        }
        let version = latest + 1;
        let published_at = now();
        let document = serde_json::to_string(schedule)
            .map_err(|e| StoreError::Corrupt(format!("fee schedule: {e}")))?;
        sqlx::query(
            "INSERT INTO fee_schedules (authority, version, effective_from, document, published_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(authority)
        .bind(version)
        .bind(format_date(schedule.effective_from))
        .bind(document)
        .bind(&published_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, || format!("fee schedule version {version}")))?;
        tx.commit().await?;
        Ok(PublishedSchedule {
            authority: authority.to_string(),
            version,
            published_at,
            schedule: schedule.clone(),
        })
    }

    /// How many versions exist across all authorities.
    pub async fn fee_schedule_count(&self) -> StoreResult<usize> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM fee_schedules")
            .fetch_one(&self.read)
            .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Every version of `authority`'s schedule, oldest first.
    pub async fn fee_schedule_history(
        &self,
        authority: &str,
    ) -> StoreResult<Vec<PublishedSchedule>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT authority, version, document, published_at FROM fee_schedules \
             WHERE authority = $1 ORDER BY version",
        )
        .bind(authority)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(Row::parse).collect()
    }
}
