//! Creates the table, from the schema declared in code, on a local DynamoDB-compatible server, for
//! running functions with `cargo lambda watch` or `sam local`:
//! `TABLE_NAME=itinera-dev DYNAMODB_ENDPOINT=http://127.0.0.1:5005 cargo run -p itinera-aws --example create-table`.
//! It refuses to run without `DYNAMODB_ENDPOINT`, so it never touches an AWS account.

use std::process::ExitCode;

use itinera_aws::{DynamoDbConfig, build_local_client, create_table};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let config = match DynamoDbConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("create-table: {error}");
            return ExitCode::FAILURE;
        }
    };
    let client = match build_local_client(&config) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("create-table: {error} (it only creates tables on a local server)");
            return ExitCode::FAILURE;
        }
    };
    match create_table(&client, &config.table_name).await {
        Ok(()) => {
            println!(
                "created table {} on {}",
                config.table_name,
                config.endpoint.unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("create-table: {error}");
            ExitCode::FAILURE
        }
    }
}
