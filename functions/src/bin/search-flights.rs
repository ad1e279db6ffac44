//! `GET /v1/flights`: the scheduled flights of a leg on a local day.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("search-flights").await
}
