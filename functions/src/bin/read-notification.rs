//! `POST /v1/notifications/{id}/read`: marks one of the caller's notifications read.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::READ_NOTIFICATION)
}
