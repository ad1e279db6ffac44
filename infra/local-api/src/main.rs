//! `cargo run -p local-api`: the whole API on `http://127.0.0.1:$PORT`, data in `$DATA_DIR`.

use std::process::ExitCode;
use std::sync::Arc;

use itinera_embedded::EmbeddedStore;
use local_api::{LocalConfig, bootstrap_admin, build_api, serve, shutdown_signal};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match LocalConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("local-api cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    itinera::telemetry::init(&config.api.log_level);
    let store = match EmbeddedStore::open(&config.data_dir) {
        Ok(store) => store,
        Err(error) => {
            eprintln!(
                "local-api cannot open the store in {}: {error}",
                config.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let api = match build_api(&config, Arc::new(store)) {
        Ok(api) => Arc::new(api),
        Err(error) => {
            eprintln!("local-api cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = bootstrap_admin(&config, &api).await {
        eprintln!(
            "local-api cannot start: {}",
            itinera::api::error_chain(&error)
        );
        return ExitCode::FAILURE;
    }
    let listener = match TcpListener::bind(("127.0.0.1", config.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "local-api cannot listen on 127.0.0.1:{}: {error}",
                config.port
            );
            return ExitCode::FAILURE;
        }
    };
    let address = listener
        .local_addr()
        .map_or_else(|_| format!("127.0.0.1:{}", config.port), |a| a.to_string());
    println!(
        "Itinera local API listening on http://{address} (data in {})",
        config.data_dir.display()
    );
    serve(listener, Arc::clone(&api), shutdown_signal()).await;
    match Arc::try_unwrap(api) {
        Ok(api) => {
            drop(api);
            tracing::info!("store closed; stopped");
        }
        Err(_) => {
            tracing::warn!("requests still held the store at exit; it closes with the process")
        }
    }
    ExitCode::SUCCESS
}
