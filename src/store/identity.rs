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
    id: i64,
    role: String,
    authority: Option<String>,
    organisation: Option<String>,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

/// A token as it is listed: what it is for and its life, never its secret
/// or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct TokenInfo {
    /// Its number, for revoking it.
    pub id: i64,
    /// `admin`, `staff` or `operator`.
    pub role: String,
    /// The council of a staff token.
    pub authority: Option<String>,
    /// The organisation of an operator token.
    pub organisation: Option<String>,
    /// Who or what it is for.
    pub name: String,
    /// When it was issued.
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// When it was last used (to within a minute), if ever.
    pub last_used_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// What a token hash stands for: its principal and its life, for the
/// caller to judge against the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The token's number.
    pub id: i64,
    /// Who it acts for.
    pub principal: Principal,
    /// When it stops working, if ever (RFC 3339, UTC).
    pub expires_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// Which tokens a listing covers.
#[derive(Debug, Clone, Copy)]
pub enum TokenScope<'a> {
    /// Every token (the admin).
    All,
    /// The tokens of one council's staff.
    Authority(&'a str),
    /// The tokens of one organisation.
    Organisation(&'a str),
}

const TOKEN_COLUMNS: &str = "id, role, authority, organisation, name, created_at, expires_at, \
                             last_used_at, revoked_at";

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

    /// Every organisation, by slug.
    pub async fn organisations(&self) -> StoreResult<Vec<Organisation>> {
        Ok(
            sqlx::query_as("SELECT slug, name FROM organisations ORDER BY slug")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Issues a token for `principal` and returns it; only its hash is kept.
    /// The scope must exist ([`StoreError::NotFound`] otherwise).
    /// `expires_at` is RFC 3339 in UTC, already checked by the caller.
    pub async fn create_token(
        &self,
        principal: &Principal,
        name: &str,
        expires_at: Option<&str>,
    ) -> StoreResult<String> {
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
            "INSERT INTO tokens (token_hash, role, authority, organisation, name, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(hash_token(&token))
        .bind(principal.role().as_str())
        .bind(authority)
        .bind(organisation)
        .bind(name)
        .bind(now())
        .bind(expires_at)
        .execute(&self.write)
        .await
        .map_err(|e| conflict(e, || "token".into()))?;
        Ok(token)
    }

    /// The principal a token hash belongs to, if any, whatever its life
    /// (see [`Store::token_for_hash`] for revocation and expiry).
    pub async fn principal_for_hash(&self, hash: &str) -> StoreResult<Option<Principal>> {
        Ok(self.token_for_hash(hash).await?.map(|g| g.principal))
    }

    /// What a token hash stands for, if it was ever issued.
    pub async fn token_for_hash(&self, hash: &str) -> StoreResult<Option<TokenGrant>> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT id, role, authority, organisation, expires_at, revoked_at \
             FROM tokens WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: Role = parse_stored("role", &row.role)?;
        let corrupt = || StoreError::Corrupt(format!("{role} token without its scope"));
        let principal = match role {
            Role::Admin => Principal::Admin,
            Role::Staff => Principal::Staff {
                authority: row.authority.ok_or_else(corrupt)?,
            },
            Role::Operator => Principal::Operator {
                organisation: row.organisation.ok_or_else(corrupt)?,
            },
        };
        Ok(Some(TokenGrant {
            id: row.id,
            principal,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }))
    }

    /// The tokens in `scope`, oldest first.
    pub async fn tokens(&self, scope: TokenScope<'_>) -> StoreResult<Vec<TokenInfo>> {
        let (filter, value) = match scope {
            TokenScope::All => ("", None),
            TokenScope::Authority(code) => (" WHERE authority = $1", Some(code)),
            TokenScope::Organisation(slug) => (" WHERE organisation = $1", Some(slug)),
        };
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens{filter} ORDER BY id");
        let mut q = sqlx::query_as::<_, TokenInfo>(sqlx::AssertSqlSafe(sql));
        if let Some(v) = value {
            q = q.bind(v);
        }
        Ok(q.fetch_all(&self.read).await?)
    }

    /// One token by number.
    pub async fn token(&self, id: i64) -> StoreResult<Option<TokenInfo>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1");
        Ok(sqlx::query_as::<_, TokenInfo>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.read)
            .await?)
    }

    /// Revokes token `id`. Decided in the database: only a token not yet
    /// revoked is changed, so its first revocation time stands and the
    /// count of revoked tokens only ever grows. Returns false when no such
    /// token exists; revoking a revoked token is not an error.
    pub async fn revoke_token(&self, id: i64) -> StoreResult<bool> {
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(self.token(id).await?.is_some())
    }

    /// How many tokens have been revoked. Revocations are only ever added
    /// (rows are never deleted and a revoked token stays revoked), so a
    /// different count means a revocation this reader has not applied,
    /// whatever order the revoking transactions committed in.
    pub async fn revoked_token_count(&self) -> StoreResult<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM tokens WHERE revoked_at IS NOT NULL")
                .fetch_one(&self.read)
                .await?;
        Ok(n)
    }

    /// Records that token `id` was used now.
    pub async fn token_used(&self, id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
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
