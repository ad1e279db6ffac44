//! The conformance suite against the DynamoDB adapter, on a DynamoDB-compatible server (moto in
//! CI and locally, started by `./infra/test.sh`), each test on a table of its own.
//!
//! The server is named by `ITINERA_TEST_DYNAMODB_ENDPOINT`. Without it the tests fail rather than
//! skip: a skipped adapter would look like a passing one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use itinera::storage::Store;
use itinera_aws::{DynamoDbConfig, DynamoDbStore, build_local_client, create_table};

const ENDPOINT_VARIABLE: &str = "ITINERA_TEST_DYNAMODB_ENDPOINT";

/// A table name no other test, and no earlier run against the same server, has used.
fn unique_table_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros());
    format!(
        "itinera-conformance-{}-{started}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on a new, empty table. Each test gets its own client: a client's connection pool is
/// bound to the runtime it was first used on, and every test runs on a runtime of its own.
async fn fresh_store() -> Arc<dyn Store> {
    let endpoint = std::env::var(ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_VARIABLE} is not set: start moto with ./infra/test.sh or set \
             {ENDPOINT_VARIABLE}"
        )
    });
    let table_name = unique_table_name();
    // Read through the same parser as a deployment, with the test's values in place of the
    // process environment.
    let config = DynamoDbConfig::from_lookup(|name| match name {
        "TABLE_NAME" => Some(table_name.clone()),
        "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
        _ => None,
    })
    .unwrap_or_else(|error| panic!("{ENDPOINT_VARIABLE}={endpoint:?}: {error}"));
    let client = build_local_client(&config).expect("the endpoint is configured");
    create_table(&client, &table_name)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "creating table {table_name} on {endpoint}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&error)
            )
        });
    Arc::new(DynamoDbStore::new(client, table_name))
}

crate::conformance::store_conformance_suite!(fresh_store);
