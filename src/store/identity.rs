//! Authorities, organisations and tokens.

use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::FromRow;

use super::{Store, StoreError, StoreResult, conflict, now, parse_stored};
use crate::domain::access::{Principal, Role};

/// A council using the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Authority {
    /// Short code, e.g. `trafford`.
    pub code: String,
    /// Display name, e.g. `Trafford Council`.
    pub name: String,
}

/// An operator or neutral host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Organisation {
    /// Short slug, e.g. `vodafone`.
    pub slug: String,
    /// Display name.
    pub name: String,
}

#[derive(FromRow)]
struct TokenRow {
    role: String,
    authority: Option<String>,
    organisation: Option<String>,
}

/// Makes a new random bearer token (256 bits, URL-safe).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "sc_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The stored form of a token: its SHA-256, hex. Tokens are random and long,
/// so a fast hash is enough (no password stretching needed).
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Creates an authority.
    pub async fn create_authority(&self, code: &str, name: &str) -> StoreResult<Authority> {
        sqlx::query("INSERT INTO authorities (code, name, created_at) VALUES ($1, $2, $3)")
            .bind(code)
            .bind(name)
            .bind(now())
            .execute(&self.write)
            .await
            .map_err(|e| conflict(e, || format!("authority {code:?}")))?;
        Ok(Authority {
            code: code.into(),
            name: name.into(),
        })
    }

    /// One authority by code.
    pub async fn authority(&self, code: &str) -> StoreResult<Option<Authority>> {
        Ok(
            sqlx::query_as("SELECT code, name FROM authorities WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Every authority, by code.
    pub async fn authorities(&self) -> StoreResult<Vec<Authority>> {
        Ok(
            sqlx::query_as("SELECT code, name FROM authorities ORDER BY code")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Creates an organisation.
    pub async fn create_organisation(&self, slug: &str, name: &str) -> StoreResult<Organisation> {
        sqlx::query("INSERT INTO organisations (slug, name, created_at) VALUES ($1, $2, $3)")
            .bind(slug)
            .bind(name)
            .bind(now())
            .execute(&self.write)
            .await
            .map_err(|e| conflict(e, || format!("organisation {slug:?}")))?;
        Ok(Organisation {
            slug: slug.into(),
            name: name.into(),
        })
    }

    /// One organisation by slug.
    pub async fn organisation(&self, slug: &str) -> StoreResult<Option<Organisation>> {
        Ok(
            sqlx::query_as("SELECT slug, name FROM organisations WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Issues a token for `principal` and returns it; only its hash is kept.
    /// The scope must exist ([`StoreError::NotFound`] otherwise).
    pub async fn create_token(&self, principal: &Principal, name: &str) -> StoreResult<String> {
        let (authority, organisation) = match principal {
            Principal::Admin => (None, None),
            Principal::Staff { authority } => (Some(authority.as_str()), None),
            Principal::Operator { organisation } => (None, Some(organisation.as_str())),
        };
        if let Some(code) = authority
            && self.authority(code).await?.is_none()
        {
            return Err(StoreError::NotFound(format!("authority {code:?}")));
        }
        if let Some(slug) = organisation
            && self.organisation(slug).await?.is_none()
        {
            return Err(StoreError::NotFound(format!("organisation {slug:?}")));
        }
        let token = generate_token();
        sqlx::query(
            "INSERT INTO tokens (token_hash, role, authority, organisation, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash_token(&token))
        .bind(principal.role().as_str())
        .bind(authority)
        .bind(organisation)
        .bind(name)
        .bind(now())
        .execute(&self.write)
        .await
        .map_err(|e| conflict(e, || "token".into()))?;
        Ok(token)
    }

    /// The principal a token hash belongs to, if any.
    pub async fn principal_for_hash(&self, hash: &str) -> StoreResult<Option<Principal>> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT role, authority, organisation FROM tokens WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: Role = parse_stored("role", &row.role)?;
        let corrupt = || StoreError::Corrupt(format!("{role} token without its scope"));
        Ok(Some(match role {
            Role::Admin => Principal::Admin,
            Role::Staff => Principal::Staff {
                authority: row.authority.ok_or_else(corrupt)?,
            },
            Role::Operator => Principal::Operator {
                organisation: row.organisation.ok_or_else(corrupt)?,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, b) = (generate_token(), generate_token());
        assert_ne!(a, b);
        assert!(a.starts_with("sc_") && a.len() == 3 + 43, "{a}");
        // SHA-256 of "abc", FIPS 180-2 appendix B.1.
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
