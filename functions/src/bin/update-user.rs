//! `PATCH /v1/users/{id}`: a user's role and disabled flag (admin).

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::UPDATE_USER)
}
