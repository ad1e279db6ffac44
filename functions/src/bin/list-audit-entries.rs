//! `GET /v1/audit`: the audit log by entity or by actor (admin).

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run(&itinera_http::routes::LIST_AUDIT_ENTRIES)
}
