//! `GET /v1/bookings/{id}`: one booking, for its owner or staff.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("get-booking").await
}
