//! Creates the first admin in a deployed table, once: the AWS counterpart of the local API's
//! `BOOTSTRAP_ADMIN_EMAIL` / `BOOTSTRAP_ADMIN_PASSWORD`. Run it from an operator's machine with
//! credentials allowed to write the table:
//! `TABLE_NAME=<table> BOOTSTRAP_ADMIN_EMAIL=... BOOTSTRAP_ADMIN_PASSWORD=... cargo run -p itinera-aws --example bootstrap-admin`.
//! When an admin exists already it changes nothing.

use std::process::ExitCode;
use std::sync::Arc;

use itinera::accounts::{Argon2id, Email, Password, PasswordHasher, bootstrap_admin};
use itinera::clock::{SystemClock, UuidV7Ids};
use itinera::config::env;
use itinera_aws::{DynamoDbConfig, DynamoDbStore, build_client};

fn setting<T>(name: &str, parse: fn(&str) -> Result<T, String>) -> Result<T, String> {
    let value = env(name).ok_or_else(|| format!("{name} must be set"))?;
    parse(&value).map_err(|problem| format!("{name} {problem}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let settings = (|| {
        let email = setting("BOOTSTRAP_ADMIN_EMAIL", Email::parse)?;
        let password = setting("BOOTSTRAP_ADMIN_PASSWORD", Password::parse)?;
        let dynamodb = DynamoDbConfig::from_env().map_err(|error| error.to_string())?;
        Ok::<_, String>((email, password, dynamodb))
    })();
    let (email, password, dynamodb) = match settings {
        Ok(settings) => settings,
        Err(problem) => {
            eprintln!("bootstrap-admin: {problem}");
            return ExitCode::FAILURE;
        }
    };
    let store = DynamoDbStore::new(build_client(&dynamodb).await, dynamodb.table_name);
    let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2id::owasp_minimum());
    match bootstrap_admin(&store, &SystemClock, &UuidV7Ids, &hasher, email, password).await {
        Ok(Some(admin)) => {
            println!("created admin {} ({})", admin.id, admin.email.as_str());
            ExitCode::SUCCESS
        }
        Ok(None) => {
            println!("an admin exists already; nothing changed");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bootstrap-admin: {}", itinera::error::chain(&error));
            ExitCode::FAILURE
        }
    }
}
