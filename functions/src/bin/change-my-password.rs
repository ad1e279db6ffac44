//! `POST /v1/users/me/password`: changes the password and ends every other session.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::CHANGE_MY_PASSWORD)
}
