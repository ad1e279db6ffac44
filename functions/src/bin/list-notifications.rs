//! `GET /v1/notifications`: the caller's notifications, newest first.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LIST_NOTIFICATIONS)
}
