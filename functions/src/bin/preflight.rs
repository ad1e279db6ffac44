//! `OPTIONS /{proxy+}`: answers CORS preflight requests for every route.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("preflight").await
}
