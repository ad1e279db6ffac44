//! `/v1/auth/login`, `/refresh` and `/logout`: sessions over HTTP.
//!
//! A sign-in answers a short-lived access token (a JWT the API verifies without a lookup) and an
//! opaque refresh token (stored only as a hash) that rotates on every use.

use std::sync::Arc;

use serde::Serialize;

use crate::accounts::{self, Email, LoginName, Username};
use crate::api::fields::string;
use crate::api::pipeline::Services;
use crate::api::problem::ApiError;
use crate::api::reply::Reply;
use crate::api::request::Input;
use crate::auth::{self, sessions::RevocationReason};
use crate::error::DomainError;
use crate::identity::{Principal, RequestContext};

const LOGIN_FIELDS: &[&str] = &["email", "username", "password"];
const REFRESH_FIELDS: &[&str] = &["refreshToken"];

/// The answer to a sign-in or a refresh.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tokens {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    token_type: &'static str,
}

/// Starts a session for `principal`: a new refresh-token family and an access token. The
/// session's start is recorded as made by `principal` under the request id of `context`: a
/// login request carries no access token, yet the user who just signed in is the actor.
pub(crate) async fn issue_tokens(
    services: &Services,
    context: &RequestContext,
    principal: &Principal,
) -> Result<Tokens, ApiError> {
    let issuer = services.token_issuer()?;
    let as_user = RequestContext {
        request_id: context.request_id.clone(),
        principal: Some(principal.clone()),
    };
    let refresh = auth::start_session(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &as_user,
        &principal.user_id,
    )
    .await?;
    let access = issuer.issue(principal, services.clock.now());
    Ok(Tokens {
        access_token: access.token,
        refresh_token: refresh.expose_secret().to_owned(),
        expires_in: access.expires_in,
        token_type: "Bearer",
    })
}

/// `POST /v1/auth/login`: `email` or `username`, and `password`.
pub(crate) async fn login(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut body = input.json_fields(LOGIN_FIELDS)?;
    let email = body.optional("email", |value| Email::parse(&string(value)?));
    let username = body.optional("username", |value| Username::parse(&string(value)?));
    let password = body.required("password", string);
    let login = match (&email, &username) {
        (Some(Some(_)), Some(Some(_))) => {
            body.reject("username", "give either email or username, not both");
            None
        }
        (Some(None), Some(None)) => {
            body.reject("email", "give either email or username");
            None
        }
        _ => Some(()),
    };
    let (email, username, password, ()) = body.finish((email, username, password, login))?;
    let login = match (email, username) {
        (Some(email), _) => LoginName::Email(email),
        (None, Some(username)) => LoginName::Username(username),
        (None, None) => return Err(ApiError::Internal),
    };
    let user =
        accounts::authenticate(&*services.store, &services.passwords, &login, &password).await?;
    let principal = Principal {
        user_id: user.id,
        role: user.role,
    };
    Reply::ok(&issue_tokens(&services, &input.context, &principal).await?)
}

fn presented_refresh_token(input: &Input) -> Result<String, ApiError> {
    let mut body = input.json_fields(REFRESH_FIELDS)?;
    let token = body.required("refreshToken", string);
    let (token,) = body.finish((token,))?;
    Ok(token)
}

/// `POST /v1/auth/refresh`: rotates the refresh token. A rotated token presented again revokes its
/// whole family; a disabled or deleted user's session ends here at once.
pub(crate) async fn refresh(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let presented = presented_refresh_token(&input)?;
    let issuer = services.token_issuer()?;
    let (user_id, refresh) = auth::rotate(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        &presented,
    )
    .await?;
    let user = match accounts::get_user(&*services.store, &user_id).await {
        Ok(user) if !user.disabled => user,
        Ok(_) => {
            let reason = RevocationReason::UserDisabled;
            return Err(end_session(&services, &input.context, &refresh, reason).await);
        }
        Err(DomainError::NotFound { .. }) => {
            let reason = RevocationReason::UserNotFound;
            return Err(end_session(&services, &input.context, &refresh, reason).await);
        }
        Err(other) => return Err(other.into()),
    };
    let principal = Principal {
        user_id: user.id,
        role: user.role,
    };
    let access = issuer.issue(&principal, services.clock.now());
    Reply::ok(&Tokens {
        access_token: access.token,
        refresh_token: refresh.expose_secret().to_owned(),
        expires_in: access.expires_in,
        token_type: "Bearer",
    })
}

/// Revokes the session a refresh has just extended, for a user who may no longer sign in, and
/// answers the refusal.
async fn end_session(
    services: &Services,
    context: &RequestContext,
    refresh: &auth::RefreshToken,
    reason: RevocationReason,
) -> ApiError {
    let revoked = auth::revoke_family(
        &*services.store,
        &*services.clock,
        &*services.ids,
        context,
        refresh.family_id(),
        reason,
    )
    .await;
    match revoked {
        Ok(_) => DomainError::Unauthenticated.into(),
        Err(error) => error.into(),
    }
}

/// `POST /v1/auth/logout`: ends the refresh token's session. Unknown tokens are accepted too, so
/// the answer says nothing about which tokens exist.
pub(crate) async fn logout(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let presented = presented_refresh_token(&input)?;
    auth::revoke(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        &presented,
    )
    .await?;
    Ok(Reply::no_content())
}
