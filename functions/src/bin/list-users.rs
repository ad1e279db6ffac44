//! `GET /v1/users`: users, newest first, optionally of one role (admin).

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LIST_USERS)
}
