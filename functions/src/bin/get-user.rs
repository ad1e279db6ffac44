//! `GET /v1/users/{id}`: one user (admin).

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::GET_USER)
}
