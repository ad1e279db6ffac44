//! `GET /v1/users/me`: the signed-in user.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::GET_MY_PROFILE)
}
