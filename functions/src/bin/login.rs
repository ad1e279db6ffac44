//! `POST /v1/auth/login`: signs a user in with a password; answers access and refresh tokens.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LOGIN)
}
