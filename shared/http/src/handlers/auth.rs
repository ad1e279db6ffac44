//! `/v1/auth/login`, `/refresh` and `/logout`: sessions over HTTP.
//!
//! A sign-in answers a short-lived access token (a JWT the API verifies without a lookup) and an
//! opaque refresh token (stored only as a hash) that rotates on every use.

use std::sync::Arc;

use itinera::accounts::{self, Email, LoginName, User, Username};
use itinera::auth::{self, AccessToken, RefreshToken, sessions::RevocationReason};
use itinera::error::DomainError;
use itinera::identity::{Principal, RequestContext};
use serde::Serialize;

use crate::fields::{Field, Shape, string};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

/// Either `email` or `username` (exactly one), and `password`.
pub(crate) const LOGIN_FIELDS: &[Field] = &[
    Field::optional("email", super::accounts::EMAIL),
    Field::optional("username", super::accounts::USERNAME),
    Field::required("password", Shape::Opaque),
];
pub(crate) const REFRESH_FIELDS: &[Field] = &[Field::required("refreshToken", Shape::Opaque)];

/// The answer to a sign-in or a refresh.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tokens {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    token_type: &'static str,
}

impl Tokens {
    fn new(access: AccessToken, refresh: &RefreshToken) -> Self {
        Self {
            access_token: access.token,
            refresh_token: refresh.expose_secret().to_owned(),
            expires_in: access.expires_in,
            token_type: "Bearer",
        }
    }
}

/// The request of `context`, made by `principal`: a sign-in, a refresh or a logout carries no
/// access token, yet the session that changes is this user's, and so is the audit entry.
fn acting_as(context: &RequestContext, principal: &Principal) -> RequestContext {
    RequestContext {
        request_id: context.request_id.clone(),
        principal: Some(principal.clone()),
    }
}

/// Starts a session for `user` as the store holds it now: a new refresh-token family and an
/// access token, for the principal [`accounts::session_principal`] makes of them (a disabled user
/// gets none). Taking the stored user rather than a principal keeps every path that signs someone
/// in from trusting a role it was merely told.
pub(crate) async fn issue_tokens(
    services: &Services,
    context: &RequestContext,
    user: &User,
) -> Result<Tokens, ApiError> {
    let principal = accounts::session_principal(user)?;
    let issuer = services.token_issuer()?;
    let refresh = auth::start_session(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &acting_as(context, &principal),
        &principal.user_id,
    )
    .await?;
    let access = issuer.issue(&principal, services.clock.now());
    Ok(Tokens::new(access, &refresh))
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
    let user = accounts::authenticate(
        &*services.store,
        &services.passwords,
        &login,
        input.resolved_login.as_ref(),
        &password,
    )
    .await?;
    Reply::ok(&issue_tokens(&services, &input.context, &user).await?)
}

fn presented_refresh_token(input: &Input) -> Result<String, ApiError> {
    let mut body = input.json_fields(REFRESH_FIELDS)?;
    let token = body.required("refreshToken", string);
    let (token,) = body.finish((token,))?;
    Ok(token)
}

/// `POST /v1/auth/refresh`: rotates the refresh token. A rotated token presented again revokes its
/// whole family; a disabled or deleted user's session ends here at once. The new access token is
/// built from the user as stored now, and the rotation (or the revocation for reuse) is recorded
/// as the token's user's.
pub(crate) async fn refresh(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let presented = presented_refresh_token(&input)?;
    let issuer = services.token_issuer()?;
    let token = auth::find_refresh_token(&*services.store, &presented)
        .await?
        .ok_or(DomainError::Unauthenticated)?;
    let user = match accounts::get_user(&*services.store, token.user_id()).await {
        Ok(user) => user,
        Err(DomainError::NotFound { .. }) => {
            let reason = RevocationReason::UserNotFound;
            return Err(end_session(&services, &input.context, &token, reason).await);
        }
        Err(other) => return Err(other.into()),
    };
    let Ok(principal) = accounts::session_principal(&user) else {
        let reason = RevocationReason::UserDisabled;
        return Err(end_session(&services, &input.context, &token, reason).await);
    };
    let refresh = auth::rotate(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &acting_as(&input.context, &principal),
        &token,
    )
    .await?;
    let access = issuer.issue(&principal, services.clock.now());
    Reply::ok(&Tokens::new(access, &refresh))
}

/// Revokes the session of a presented token whose user may no longer sign in, and answers the
/// refusal. The revocation is the system's doing (the user was disabled or removed), recorded in
/// `context`, which names no user.
async fn end_session(
    services: &Services,
    context: &RequestContext,
    token: &auth::PresentedToken,
    reason: RevocationReason,
) -> ApiError {
    let revoked = auth::revoke_family(
        &*services.store,
        &*services.clock,
        &*services.ids,
        context,
        token.family_id(),
        reason,
    )
    .await;
    match revoked {
        Ok(_) => DomainError::Unauthenticated.into(),
        Err(error) => error.into(),
    }
}

/// `POST /v1/auth/logout`: ends the refresh token's session, recorded as its user's (the system's
/// when the user is gone or disabled). Unknown tokens are accepted too, so the answer says
/// nothing about which tokens exist.
pub(crate) async fn logout(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let presented = presented_refresh_token(&input)?;
    let Some(token) = auth::find_refresh_token(&*services.store, &presented).await? else {
        return Ok(Reply::no_content());
    };
    let context = match accounts::get_user(&*services.store, token.user_id()).await {
        Ok(user) => match accounts::session_principal(&user) {
            Ok(principal) => acting_as(&input.context, &principal),
            Err(_) => input.context.clone(),
        },
        Err(DomainError::NotFound { .. }) => input.context.clone(),
        Err(other) => return Err(other.into()),
    };
    auth::revoke(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &context,
        &token,
    )
    .await?;
    Ok(Reply::no_content())
}
