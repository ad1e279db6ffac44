//! `GET /v1/bookings`: the caller's bookings, or every booking for staff.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("list-bookings").await
}
