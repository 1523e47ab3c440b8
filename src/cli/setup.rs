//! Setting a deployment up from the command line, without crafting HTTP
//! requests: councils, organisations, tokens (issue, list, revoke) and fee
//! schedules. The same checks as the HTTP API (slugs, names, token scopes,
//! expiry, schedule rules) apply.
//!
//! These commands write the database directly, like `import`: a running
//! server picks the changes up through its once-a-second catch-up (fee
//! schedules, token revocations); authorities, organisations and new
//! tokens are read from the database when first used.

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::domain::access::{Principal, Role, validate_token_scope};
use crate::domain::validate::{Slug, display_name};
use crate::store::{Store, StoreError, TokenScope};

use super::TokenAction;

/// `authority` actions.
#[derive(Subcommand, Debug)]
pub enum AuthorityAction {
    /// Add a council.
    Add {
        /// Short code used in URLs and tokens, e.g. `trafford`.
        code: String,
        /// Display name, e.g. "Trafford Council".
        #[arg(long)]
        name: String,
    },
    /// List the councils.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `organisation` actions.
#[derive(Subcommand, Debug)]
pub enum OrganisationAction {
    /// Add an operator or neutral host.
    Add {
        /// Short slug, e.g. `vodafone`.
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List the organisations.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `fee-schedule` actions.
#[derive(Subcommand, Debug)]
pub enum FeeScheduleAction {
    /// Publish a new version of a council's fee schedule from a JSON file
    /// (the body `PUT /v1/authorities/{code}/fee-schedule` takes).
    Publish {
        /// The council.
        #[arg(long)]
        authority: String,
        /// The schedule as JSON.
        file: std::path::PathBuf,
    },
}

fn checked(code: &str, name: &str) -> anyhow::Result<(Slug, String)> {
    let code = Slug::parse(code).map_err(anyhow::Error::msg)?;
    let name = display_name(name).map_err(|m| anyhow::anyhow!("--name {m}"))?;
    Ok((code, name))
}

/// `streetcell authority ...`
pub async fn authority(store: &Store, action: AuthorityAction) -> anyhow::Result<()> {
    match action {
        AuthorityAction::Add { code, name } => {
            let (code, name) = checked(&code, &name)?;
            let a = store.create_authority(code.as_str(), &name).await?;
            println!("authority {} added: {}", a.code, a.name);
        }
        AuthorityAction::List { json } => {
            let all = store.authorities().await?;
            if json {
                println!("{}", serde_json::to_string(&all)?);
            } else {
                for a in all {
                    println!("{:<24} {}", a.code, a.name);
                }
            }
        }
    }
    Ok(())
}

/// `streetcell organisation ...`
pub async fn organisation(store: &Store, action: OrganisationAction) -> anyhow::Result<()> {
    match action {
        OrganisationAction::Add { slug, name } => {
            let (slug, name) = checked(&slug, &name)?;
            let o = store.create_organisation(slug.as_str(), &name).await?;
            println!("organisation {} added: {}", o.slug, o.name);
        }
        OrganisationAction::List { json } => {
            let all = store.organisations().await?;
            if json {
                println!("{}", serde_json::to_string(&all)?);
            } else {
                for o in all {
                    println!("{:<24} {}", o.slug, o.name);
                }
            }
        }
    }
    Ok(())
}

/// `streetcell token ...`
pub async fn token(store: &Store, action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Create {
            role,
            authority,
            organisation,
            name,
            expires_at,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            validate_token_scope(role, authority.as_deref(), organisation.as_deref())
                .map_err(anyhow::Error::msg)?;
            let name = display_name(&name).map_err(|m| anyhow::anyhow!("--name {m}"))?;
            let expires_at = expires_at
                .as_deref()
                .map(crate::http::admin::expiry)
                .transpose()
                .map_err(|m| anyhow::anyhow!("--expires-at {m}"))?;
            let principal = match role {
                Role::Admin => Principal::Admin,
                Role::Staff => Principal::Staff {
                    authority: authority.unwrap_or_default(),
                },
                Role::Operator => Principal::Operator {
                    organisation: organisation.unwrap_or_default(),
                },
            };
            let token = match store
                .create_token(&principal, &name, expires_at.as_deref())
                .await
            {
                Ok(t) => t,
                Err(StoreError::NotFound(what)) => {
                    let how = if what.starts_with("authority") {
                        "streetcell authority add CODE --name NAME"
                    } else {
                        "streetcell organisation add SLUG --name NAME"
                    };
                    bail!("{what} does not exist: add it first with `{how}`")
                }
                Err(e) => return Err(e.into()),
            };
            println!("{token}");
        }
        TokenAction::List { json } => {
            let all = store.tokens(TokenScope::All).await?;
            if json {
                println!("{}", serde_json::to_string(&all)?);
            } else {
                println!(
                    "{:>5}  {:<8} {:<20} {:<20} {:<20} {:<20} {:<20} revoked",
                    "id", "role", "scope", "name", "created", "expires", "last used"
                );
                let short = |t: &Option<String>| {
                    t.as_deref()
                        .map_or("-".to_string(), |t| t.chars().take(19).collect())
                };
                for t in all {
                    let scope = t
                        .authority
                        .as_deref()
                        .or(t.organisation.as_deref())
                        .unwrap_or("-");
                    println!(
                        "{:>5}  {:<8} {:<20} {:<20} {:<20} {:<20} {:<20} {}",
                        t.id,
                        t.role,
                        scope,
                        t.name,
                        short(&Some(t.created_at.clone())),
                        short(&t.expires_at),
                        short(&t.last_used_at),
                        short(&t.revoked_at),
                    );
                }
            }
        }
        TokenAction::Revoke { id } => {
            if !store.revoke_token(id).await? {
                bail!("token {id} does not exist (see `streetcell token list`)");
            }
            println!("token {id} revoked");
        }
    }
    Ok(())
}

/// `streetcell fee-schedule ...`
pub async fn fee_schedule(store: &Store, action: FeeScheduleAction) -> anyhow::Result<()> {
    let FeeScheduleAction::Publish { authority, file } = action;
    if store.authority(&authority).await?.is_none() {
        bail!(
            "authority {authority:?} does not exist: add it first with `streetcell authority add`"
        );
    }
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let schedule: crate::domain::fees::FeeSchedule = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a fee schedule", file.display()))?;
    crate::domain::fees::validate(&schedule)
        .map_err(|m| anyhow::anyhow!("{}: {m}", file.display()))?;
    let published = store
        .publish_fee_schedule(&authority, &schedule, None)
        .await?;
    println!(
        "{authority}: fee schedule version {} published, in effect from {}",
        published.version, schedule.effective_from
    );
    Ok(())
}
