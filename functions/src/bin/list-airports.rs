//! `GET /v1/airports`: every airport, by code.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("list-airports").await
}
