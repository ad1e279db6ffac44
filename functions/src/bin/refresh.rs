//! `POST /v1/auth/refresh`: rotates a refresh token; reuse of a rotated one ends its session.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::REFRESH)
}
