//! Saved site searches: the request, the answer and who ran it, written in
//! one transaction with the chosen sites (rank order, with their council).

use super::{Store, StoreResult, conflict};

/// A search to save.
#[derive(Debug, Clone)]
pub struct NewSiteSearch<'a> {
    /// Its id.
    pub id: &'a str,
    /// The operator's organisation.
    pub organisation: Option<&'a str>,
    /// The staff member's council.
    pub authority: Option<&'a str>,
    /// `admin`, `staff` or `operator`.
    pub role: &'a str,
    /// The request as sent (JSON).
    pub request: &'a str,
    /// The answer's `summary` (JSON).
    pub summary: &'a str,
    /// The whole answer (GeoJSON).
    pub result: &'a str,
    /// When (RFC 3339).
    pub created_at: &'a str,
    /// Chosen sites in rank order: (asset id, its council).
    pub sites: &'a [(String, String)],
}

/// A saved search as listed (without its full answer).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiteSearchRow {
    /// Its id.
    pub id: String,
    /// The operator's organisation, if an operator ran it.
    pub organisation: Option<String>,
    /// The staff member's council, if staff ran it.
    pub authority: Option<String>,
    /// Role of whoever ran it.
    pub role: String,
    /// The request (JSON).
    pub request: String,
    /// The answer's summary (JSON).
    pub summary: String,
    /// When.
    pub created_at: String,
}

/// Who may see which searches, as a filter.
#[derive(Debug, Clone, Default)]
pub struct SiteSearchScope {
    /// Only this organisation's.
    pub organisation: Option<String>,
    /// Only those run by this council's staff or choosing its sites.
    pub authority: Option<String>,
}

impl SiteSearchScope {
    fn clause(&self) -> (String, Option<String>) {
        match (&self.organisation, &self.authority) {
            (Some(o), _) => (" WHERE organisation = $1".into(), Some(o.clone())),
            (None, Some(a)) => (
                " WHERE (authority = $1 OR id IN \
                 (SELECT search_id FROM site_search_sites WHERE authority = $1))"
                    .into(),
                Some(a.clone()),
            ),
            (None, None) => (String::new(), None),
        }
    }
}

impl Store {
    /// Saves a search and its chosen sites.
    pub async fn save_site_search(&self, s: &NewSiteSearch<'_>) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO site_searches \
             (id, organisation, authority, role, request, summary, result, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.id)
        .bind(s.organisation)
        .bind(s.authority)
        .bind(s.role)
        .bind(s.request)
        .bind(s.summary)
        .bind(s.result)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, || format!("site search {:?}", s.id)))?;
        for (rank, (asset, authority)) in s.sites.iter().enumerate() {
            sqlx::query(
                "INSERT INTO site_search_sites (search_id, rank, asset_id, authority) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(s.id)
            .bind(rank as i64 + 1)
            .bind(asset)
            .bind(authority)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One saved search's row and its full answer, if it exists.
    pub async fn site_search(&self, id: &str) -> StoreResult<Option<(SiteSearchRow, String)>> {
        let row: Option<SiteSearchRow> = sqlx::query_as(
            "SELECT id, organisation, authority, role, request, summary, created_at \
             FROM site_searches WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (result,): (String,) = sqlx::query_as("SELECT result FROM site_searches WHERE id = $1")
            .bind(id)
            .fetch_one(&self.read)
            .await?;
        Ok(Some((row, result)))
    }

    /// The chosen sites of a search, rank order: (asset id, council).
    pub async fn site_search_sites(&self, id: &str) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT asset_id, authority FROM site_search_sites WHERE search_id = $1 ORDER BY rank",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?)
    }

    /// A page of the searches in `scope`, newest first, and how many there
    /// are in all.
    pub async fn site_searches(
        &self,
        scope: &SiteSearchScope,
        limit: u32,
        offset: u64,
    ) -> StoreResult<(u64, Vec<SiteSearchRow>)> {
        let (filter, bind) = scope.clause();
        let next = if bind.is_some() { 2 } else { 1 };
        let count_sql = format!("SELECT COUNT(*) FROM site_searches{filter}");
        let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count_sql));
        if let Some(b) = &bind {
            count = count.bind(b);
        }
        let (total,) = count.fetch_one(&self.read).await?;
        let page_sql = format!(
            "SELECT id, organisation, authority, role, request, summary, created_at \
             FROM site_searches{filter} ORDER BY created_at DESC, id DESC LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let mut page = sqlx::query_as::<_, SiteSearchRow>(sqlx::AssertSqlSafe(page_sql));
        if let Some(b) = &bind {
            page = page.bind(b);
        }
        let rows = page
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&self.read)
            .await?;
        Ok((u64::try_from(total).unwrap_or(0), rows))
    }
}
