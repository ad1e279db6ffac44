//! `cargo run -p local-api`: the whole API on `http://127.0.0.1:$PORT`, data in `$DATA_DIR`, with
//! the worker and the schedules running in the same process. `--demo` (or `ITINERA_DEMO=1`)
//! loads the demo data set first (`demo.rs`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use itinera::background::ScheduledServices;
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::jobs::WorkerServices;
use itinera_embedded::{EmbeddedQueue, EmbeddedStore, OutboxMailer};
use local_api::blobs::BlobUrls;
use local_api::{
    LocalConfig, background, bootstrap_admin, build_api, demo, open_blobs, serve, shutdown_signal,
};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long shutdown waits for the batch or scheduled run in hand.
const BACKGROUND_GRACE: Duration = Duration::from_secs(10);

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
        Ok(store) => Arc::new(store),
        Err(error) => {
            eprintln!(
                "local-api cannot open the store in {}: {error}",
                config.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let queue = match EmbeddedQueue::open(&config.data_dir) {
        Ok(queue) => Arc::new(queue),
        Err(error) => {
            eprintln!(
                "local-api cannot open the job queue in {}: {error}",
                config.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    // Bound before anything is built: the blob store's URLs name the address it listens on.
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
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("local-api cannot read the address it listens on: {error}");
            return ExitCode::FAILURE;
        }
    };
    let blobs = match open_blobs(&config, address, Arc::new(SystemClock)) {
        Ok(blobs) => blobs,
        Err(error) => {
            eprintln!("local-api cannot start: {}", itinera::error::chain(&error));
            return ExitCode::FAILURE;
        }
    };
    let api = match build_api(
        &config,
        store.clone(),
        queue.clone(),
        Arc::new(blobs.clone()),
    ) {
        Ok(api) => Arc::new(api),
        Err(error) => {
            eprintln!("local-api cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = bootstrap_admin(&config, &api).await {
        eprintln!("local-api cannot start: {}", itinera::error::chain(&error));
        return ExitCode::FAILURE;
    }
    let demo_credentials = if demo::requested(std::env::args(), std::env::var("ITINERA_DEMO").ok())
    {
        match demo::load(api.services(), chrono::Utc::now()).await {
            Ok(report) => {
                tracing::info!(
                    airports = report.airports_created,
                    airplanes = report.airplanes_created,
                    flights = report.flights_created,
                    accounts = report.accounts_created,
                    cars = report.cars_created,
                    customers = report.customers_created,
                    "demo data loaded"
                );
                Some(demo::credentials(&report))
            }
            Err(error) => {
                eprintln!(
                    "local-api cannot load the demo data: {}",
                    itinera::error::chain(&error)
                );
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let outbox = config.data_dir.join("outbox");
    println!(
        "Itinera local API listening on http://{address} (data in {}, emails in {}, files in {})",
        config.data_dir.display(),
        outbox.display(),
        config
            .data_dir
            .join(itinera_embedded::BLOBS_DIR_NAME)
            .display()
    );
    println!(
        "OpenAPI document: http://{address}{}",
        local_api::OPENAPI_PATH
    );
    if let Some(credentials) = demo_credentials {
        println!("Demo data loaded; sign in with:\n{credentials}");
    }

    let worker = WorkerServices {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        mailer: Arc::new(OutboxMailer::new(outbox, config.mail_from.clone())),
        payments: config.payments.gateway(),
    };
    let scheduled = Arc::new(ScheduledServices {
        store,
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        jobs: queue.clone(),
        fleet_alerts: Some(config.fleet_alerts.clone()),
    });
    let (stop_background, background_stopped) = watch::channel(false);
    let jobs = tokio::spawn(background::run(
        worker,
        queue,
        scheduled,
        background_stopped,
    ));

    let blob_urls = BlobUrls::new(blobs, config.api.cors.clone());
    serve(
        listener,
        Arc::clone(&api),
        Some(blob_urls),
        shutdown_signal(),
    )
    .await;
    let _ = stop_background.send(true);
    if tokio::time::timeout(BACKGROUND_GRACE, jobs).await.is_err() {
        tracing::warn!(
            "the worker did not finish its batch within the grace period; its jobs return \
             to the queue when their visibility timeout lapses"
        );
    }
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
