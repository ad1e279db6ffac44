//! Every minute: expires unpaid booking holds and gives their seats back.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::background::run("expire-holds").await
}
