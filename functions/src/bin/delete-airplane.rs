//! `DELETE /v1/airplanes/{id}`: retires an airplane no flight uses.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("delete-airplane").await
}
