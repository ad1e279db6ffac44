//! `GET /v1/audit`: the audit log by entity or by actor (admin).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run("list-audit-entries").await
}
