//! `/v1/auth/register`, `/v1/users/me` and the admin's `/v1/users`: accounts over HTTP.

use std::sync::Arc;

use itinera::accounts::{
    self, AdminChanges, EMAIL_MAX_CHARS, Email, NewAccount, PASSWORD_CHARS, Password, PersonName,
    Phone, ProfileChanges, Username,
};
use itinera::auth::{self, sessions::RevocationReason};
use itinera::identity::{Role, UserId};
use itinera::pagination::PageLimit;
use serde_json::Value;

use crate::fields::{CURSOR, Field, LIMIT, Shape, integer_text, string};
use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

use super::auth::issue_tokens;

pub(crate) const EMAIL: Shape = Shape::Email {
    max_chars: EMAIL_MAX_CHARS,
};
pub(crate) const USERNAME: Shape = Shape::Pattern("^[A-Za-z0-9._-]{3,32}$");
const PASSWORD: Shape = Shape::Text {
    min_chars: *PASSWORD_CHARS.start(),
    max_chars: *PASSWORD_CHARS.end(),
};
pub(crate) const PERSON_NAME: Shape = Shape::text(PersonName::MAX_CHARS);
/// An international number, `+` and 7 to 15 digits (the first not 0); spaces and dashes
/// anywhere are dropped.
pub(crate) const PHONE_NUMBER: Shape =
    Shape::Pattern("^[ -]*[+][ -]*[1-9](?:[ -]*[0-9]){6,14}[ -]*$");
/// A phone number, or `null` to clear it.
pub(crate) const PHONE: Shape = Shape::OrNull(&PHONE_NUMBER);
pub(crate) const ROLE: Shape = Shape::Choice(&["customer", "staff", "admin"]);

pub(crate) const REGISTER_FIELDS: &[Field] = &[
    Field::required("email", EMAIL),
    Field::required("username", USERNAME),
    Field::required("password", PASSWORD),
    Field::required("name", PERSON_NAME),
];
pub(crate) const PROFILE_FIELDS: &[Field] = &[
    Field::optional("name", PERSON_NAME),
    Field::optional("phone", PHONE),
];
pub(crate) const PASSWORD_FIELDS: &[Field] = &[
    Field::required("currentPassword", Shape::Opaque),
    Field::required("newPassword", PASSWORD),
];
pub(crate) const ADMIN_FIELDS: &[Field] = &[
    Field::optional("role", ROLE),
    Field::optional("disabled", Shape::Boolean),
];
pub(crate) const LIST_PARAMS: &[Field] = &[Field::optional("role", ROLE), LIMIT, CURSOR];

fn user_id(input: &Input) -> Result<UserId, ApiError> {
    UserId::parse(input.param("id")).ok_or_else(|| ApiError::NotFound {
        detail: "No user exists with this id.".into(),
    })
}

fn user_location(id: &UserId) -> String {
    format!("/v1/users/{id}")
}

fn text<T>(parse: fn(&str) -> Result<T, String>) -> impl FnOnce(Value) -> Result<T, String> {
    move |value| parse(&string(value)?)
}

/// A JSON boolean, strictly: no coercion of strings or numbers into flags.
fn boolean(value: Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "must be true or false".into())
}

/// `POST /v1/auth/register`: a customer account.
pub(crate) async fn register(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut body = input.json_fields(REGISTER_FIELDS)?;
    let email = body.required("email", text(Email::parse));
    let username = body.required("username", text(Username::parse));
    let password = body.required("password", text(Password::parse));
    let name = body.required("name", text(PersonName::parse));
    let (email, username, password, name) = body.finish((email, username, password, name))?;
    let account = NewAccount {
        email,
        username,
        password,
        name,
    };
    let user = accounts::register(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &services.passwords,
        &input.context,
        account,
    )
    .await?;
    Ok(Reply::created(&user, user_location(&user.id))?.with_version(user.version))
}

/// `GET /v1/users/me`.
pub(crate) async fn me(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let user = accounts::get_user(&*services.store, &input.caller()?.user_id).await?;
    Ok(Reply::ok(&user)?.with_version(user.version))
}

/// `PATCH /v1/users/me`: name and phone (`null` clears the phone).
pub(crate) async fn update_me(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = input.caller()?.user_id.clone();
    input.query_params(&[])?;
    let mut body = input.json_changes(PROFILE_FIELDS)?;
    let name = body.optional("name", text(PersonName::parse));
    let phone = body.optional("phone", |value| match value {
        Value::Null => Ok(None),
        value => Phone::parse(&string(value)?).map(Some),
    });
    let (name, phone) = body.finish((name, phone))?;
    let changes = ProfileChanges::new(name, phone).ok_or(ApiError::Internal)?;
    let user = accounts::update_profile(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        &id,
        &changes,
        &input.precondition(),
    )
    .await?;
    Ok(Reply::ok(&user)?.with_version(user.version))
}

/// `POST /v1/users/me/password`: needs the current password; signs the user out everywhere and
/// answers with the tokens of a fresh session, so only the caller stays signed in. The tokens are
/// built from the user as stored after the change (a disabled user gets a 401 and nothing
/// changes), never from the token that asked. A wrong current password counts in the sign-in
/// limits like a failed login (the route's `auth` rate tier).
pub(crate) async fn change_password(
    services: Arc<Services>,
    input: Input,
) -> Result<Reply, ApiError> {
    let id = input.caller()?.user_id.clone();
    input.query_params(&[])?;
    let mut body = input.json_fields(PASSWORD_FIELDS)?;
    let current = body.required("currentPassword", string);
    let new = body.required("newPassword", text(Password::parse));
    let (current, new) = body.finish((current, new))?;
    let user = accounts::change_password(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &services.passwords,
        &input.context,
        &id,
        &current,
        &new,
    )
    .await?;
    auth::revoke_all_sessions_except(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        &user.id,
        None,
        RevocationReason::PasswordChanged,
    )
    .await?;
    let tokens = issue_tokens(&services, &input.context, &user).await?;
    Reply::ok(&tokens)
}

/// `GET /v1/users` (admin): newest first, optionally of one role.
pub(crate) async fn list(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let mut params = input.query_params(LIST_PARAMS)?;
    let role = params.optional("role", |text| Role::parse(&text));
    let limit = params.optional("limit", |text| PageLimit::try_from(integer_text(text)?));
    let cursor = params.optional("cursor", Ok);
    let (role, limit, cursor) = params.finish((role, limit, cursor))?;
    let limit = limit.unwrap_or_default();
    let pager = services.cursors.pager("users", &role)?;
    let start_after = pager.start_after(cursor.as_deref())?;
    let page = accounts::list_users(&*services.store, role, limit, start_after).await?;
    Reply::list(&page.users, limit.get(), pager.next(page.next).as_deref())
}

/// `GET /v1/users/{id}` (admin).
pub(crate) async fn get(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    let user = accounts::get_user(&*services.store, &user_id(&input)?).await?;
    Ok(Reply::ok(&user)?.with_version(user.version))
}

/// `PATCH /v1/users/{id}` (admin): role and disabled flag. The caller must be an admin in the
/// store, not only in their token (403 otherwise), and may not change their own role or disable
/// themselves (409). Disabling a user also ends their sessions at once; their access tokens run
/// out within their 15 minutes.
pub(crate) async fn update(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    let id = user_id(&input)?;
    input.query_params(&[])?;
    let mut body = input.json_changes(ADMIN_FIELDS)?;
    let role = body.optional("role", text(Role::parse));
    let disabled = body.optional("disabled", boolean);
    let (role, disabled) = body.finish((role, disabled))?;
    let changes = AdminChanges::new(role, disabled).ok_or(ApiError::Internal)?;
    let user = accounts::admin_update_user(
        &*services.store,
        &*services.clock,
        &*services.ids,
        &input.context,
        &id,
        &changes,
        &input.precondition(),
    )
    .await?;
    if user.disabled {
        auth::revoke_all_sessions_except(
            &*services.store,
            &*services.clock,
            &*services.ids,
            &input.context,
            &user.id,
            None,
            RevocationReason::UserDisabled,
        )
        .await?;
    }
    Ok(Reply::ok(&user)?.with_version(user.version))
}
