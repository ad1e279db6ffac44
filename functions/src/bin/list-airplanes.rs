//! `GET /v1/airplanes`: the fleet, newest first, filtered and paginated.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("list-airplanes").await
}
