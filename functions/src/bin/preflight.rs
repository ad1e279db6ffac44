//! `OPTIONS` on every route path: answers CORS preflight requests for the configured origins.

fn main() -> Result<(), lambda_http::Error> {
    itinera_functions::run_preflight()
}
