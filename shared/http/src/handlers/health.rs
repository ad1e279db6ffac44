//! `GET /v1/health`: the service answers and its store answers.

use std::sync::Arc;

use itinera::error::chain;
use serde::Serialize;

use crate::problem::ApiError;
use crate::reply::Reply;
use crate::request::Input;
use crate::services::Services;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    checks: Checks,
}

#[derive(Serialize)]
struct Checks {
    store: &'static str,
}

pub(crate) async fn check(services: Arc<Services>, input: Input) -> Result<Reply, ApiError> {
    input.query_params(&[])?;
    match services.store.check_health().await {
        Ok(()) => Reply::ok(&Health {
            status: "ok",
            checks: Checks { store: "ok" },
        }),
        Err(error) => {
            tracing::error!(error = %chain(&error), "health check: store unavailable");
            Err(ApiError::Unavailable {
                retry_after_seconds: 5,
            })
        }
    }
}
