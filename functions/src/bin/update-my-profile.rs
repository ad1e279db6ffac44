//! `PATCH /v1/users/me`: changes the signed-in user's name and phone.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::UPDATE_MY_PROFILE)
}
