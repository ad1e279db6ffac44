//! `GET /v1/users/me/activity`: the signed-in user's own changes, newest first.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LIST_MY_ACTIVITY)
}
