//! `POST /v1/auth/register`: creates a customer account.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::REGISTER)
}
