//! `POST /v1/auth/logout`: ends the session of a refresh token.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LOGOUT)
}
