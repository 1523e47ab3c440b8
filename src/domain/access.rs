//! Who may do what: roles, the principal behind a token, and the rules.
//!
//! The service is shared by several councils. Every rule that keeps one
//! council's or one operator's private data from another lives here, so the
//! HTTP layer asks questions ("may this principal edit authority X?") instead
//! of re-deriving answers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the deployment: creates authorities, organisations and tokens.
    Admin,
    /// A council's estates officer, scoped to one authority.
    Staff,
    /// A mobile operator or neutral host, scoped to one organisation.
    Operator,
}

impl Role {
    /// The snake_case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Operator => "operator",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "staff" => Ok(Role::Staff),
            "operator" => Ok(Role::Operator),
            other => Err(format!(
                "unknown role {other:?}; expected admin, staff or operator"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Deployment administrator.
    Admin,
    /// Estates staff of one authority (its code).
    Staff {
        /// The authority's code.
        authority: String,
    },
    /// An operator organisation (its slug).
    Operator {
        /// The organisation's slug.
        organisation: String,
    },
}

impl Principal {
    /// The principal's role.
    pub fn role(&self) -> Role {
        match self {
            Principal::Admin => Role::Admin,
            Principal::Staff { .. } => Role::Staff,
            Principal::Operator { .. } => Role::Operator,
        }
    }

    /// May this principal change `authority`'s assets and boundary layers?
    pub fn can_manage_authority(&self, authority: &str) -> bool {
        match self {
            Principal::Admin => true,
            Principal::Staff { authority: own } => own == authority,
            Principal::Operator { .. } => false,
        }
    }

    /// May this principal act for `organisation`?
    pub fn can_act_for_organisation(&self, organisation: &str) -> bool {
        match self {
            Principal::Admin => true,
            Principal::Operator { organisation: own } => own == organisation,
            Principal::Staff { .. } => false,
        }
    }

    /// Is this the deployment administrator?
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Admin)
    }
}

/// Checks the scope a new token is given fits its role.
pub fn validate_token_scope(
    role: Role,
    authority: Option<&str>,
    organisation: Option<&str>,
) -> Result<(), String> {
    match (role, authority, organisation) {
        (Role::Admin, None, None) => Ok(()),
        (Role::Admin, _, _) => Err("an admin token has no authority or organisation".into()),
        (Role::Staff, Some(_), None) => Ok(()),
        (Role::Staff, _, _) => Err("a staff token needs an authority and no organisation".into()),
        (Role::Operator, None, Some(_)) => Ok(()),
        (Role::Operator, _, _) => {
            Err("an operator token needs an organisation and no authority".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_manage_only_their_own_authority() {
        let staff = Principal::Staff {
            authority: "trafford".into(),
        };
        assert!(staff.can_manage_authority("trafford"));
        assert!(!staff.can_manage_authority("salford"));
        assert!(!staff.can_act_for_organisation("vodafone"));
        let op = Principal::Operator {
            organisation: "vodafone".into(),
        };
        assert!(!op.can_manage_authority("trafford"));
        assert!(op.can_act_for_organisation("vodafone"));
        assert!(!op.can_act_for_organisation("ee"));
        assert!(Principal::Admin.can_manage_authority("anything"));
    }

    #[test]
    fn token_scopes_must_fit_roles() {
        assert!(validate_token_scope(Role::Staff, Some("trafford"), None).is_ok());
        assert!(validate_token_scope(Role::Staff, None, None).is_err());
        assert!(validate_token_scope(Role::Operator, Some("trafford"), Some("ee")).is_err());
        assert!(validate_token_scope(Role::Admin, None, Some("ee")).is_err());
    }
}
