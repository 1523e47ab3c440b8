//! Documents attached to an application: stored as BLOB/BYTEA beside it,
//! their number capped by a conditional update on the application (only an
//! open application with room takes one), each attachment an audit event.

use sqlx::FromRow;

use super::applications::{NewEvent, append_event, self_status_in};
use super::{Store, StoreError, StoreResult, now};
use crate::domain::application::{Actor, ApplicationStatus, AttachmentInfo};

/// Why a document could not be attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachRefusal {
    /// The application is decided (or gone): its current status.
    Closed(ApplicationStatus),
    /// It already has the most documents allowed.
    TooMany,
}

#[derive(FromRow)]
struct AttachmentRow {
    id: String,
    application_id: String,
    filename: String,
    description: Option<String>,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    uploaded_at: String,
    uploaded_by: String,
}

impl Store {
    /// Attaches a document if the application is still open and has room
    /// (at most `max` documents); both are decided by one conditional update.
    /// Returns when it was stored (RFC 3339); `info.uploaded_at` is ignored.
    pub async fn add_attachment(
        &self,
        info: &AttachmentInfo,
        content: &[u8],
        max: u32,
        actor: &Actor,
    ) -> StoreResult<Result<String, AttachRefusal>> {
        let stamp = now();
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE applications SET attachment_count = attachment_count + 1 \
             WHERE id = $1 AND status IN ('submitted', 'under_review', 'info_requested') \
             AND attachment_count < $2",
        )
        .bind(&info.application)
        .bind(i64::from(max))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let status = self
                .application_status(&info.application)
                .await?
                .ok_or_else(|| {
                    StoreError::NotFound(format!("application {:?}", info.application))
                })?;
            return Ok(Err(if status.is_open() {
                AttachRefusal::TooMany
            } else {
                AttachRefusal::Closed(status)
            }));
        }
        sqlx::query(
            "INSERT INTO application_attachments (id, application_id, filename, description, \
             content_type, size_bytes, sha256, content, uploaded_at, uploaded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&info.id)
        .bind(&info.application)
        .bind(&info.filename)
        .bind(info.description.as_deref())
        .bind(&info.content_type)
        .bind(i64::try_from(info.size_bytes).unwrap_or(i64::MAX))
        .bind(&info.sha256)
        .bind(content)
        .bind(&stamp)
        .bind(&info.uploaded_by)
        .execute(&mut *tx)
        .await?;
        let status = self_status_in(&mut tx, &info.application).await?;
        append_event(
            &mut tx,
            &info.application,
            &stamp,
            &NewEvent {
                actor,
                action: crate::domain::application::event::ATTACH,
                from: None,
                to: Some(status),
                reason: None,
                detail: Some(serde_json::json!({
                    "attachment": info.id,
                    "filename": info.filename,
                    "content_type": info.content_type,
                    "size_bytes": info.size_bytes,
                    "sha256": info.sha256,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(stamp))
    }

    /// The documents of an application, oldest first.
    pub async fn attachments(&self, application: &str) -> StoreResult<Vec<AttachmentInfo>> {
        let rows: Vec<AttachmentRow> = sqlx::query_as(
            "SELECT id, application_id, filename, description, content_type, size_bytes, sha256, \
             uploaded_at, uploaded_by FROM application_attachments WHERE application_id = $1 \
             ORDER BY uploaded_at, id",
        )
        .bind(application)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(AttachmentRow::into_info).collect())
    }

    /// One document of an application, with its bytes.
    pub async fn attachment(
        &self,
        application: &str,
        id: &str,
    ) -> StoreResult<Option<(AttachmentInfo, Vec<u8>)>> {
        let row: Option<AttachmentRow> = sqlx::query_as(
            "SELECT id, application_id, filename, description, content_type, size_bytes, sha256, \
             uploaded_at, uploaded_by FROM application_attachments \
             WHERE application_id = $1 AND id = $2",
        )
        .bind(application)
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (content,): (Vec<u8>,) = sqlx::query_as(
            "SELECT content FROM application_attachments WHERE application_id = $1 AND id = $2",
        )
        .bind(application)
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        Ok(Some((row.into_info(), content)))
    }
}

impl AttachmentRow {
    fn into_info(self) -> AttachmentInfo {
        AttachmentInfo {
            id: self.id,
            application: self.application_id,
            filename: self.filename,
            description: self.description,
            content_type: self.content_type,
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            sha256: self.sha256,
            uploaded_at: self.uploaded_at,
            uploaded_by: self.uploaded_by,
        }
    }
}
