//! Creates the table from the schema declared in `itinera::storage::TABLE`, for tests and local
//! tooling (deployed tables come from the SAM template, which a test checks against the same
//! declaration).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext};
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use itinera::storage::{BoxError, TABLE};

/// How long [`create_table`] waits for the table and its indexes to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
const FIRST_POLL_DELAY: Duration = Duration::from_millis(100);
const MAX_POLL_DELAY: Duration = Duration::from_secs(5);

/// Why the table could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TableSetupError {
    #[error("creating table {table} failed")]
    Create {
        table: String,
        #[source]
        source: BoxError,
    },
    #[error("reading the status of table {table} failed")]
    Describe {
        table: String,
        #[source]
        source: BoxError,
    },
    #[error("table {table} did not become active within {waited:?}")]
    NotActive { table: String, waited: Duration },
}

/// Creates `table_name` with the key schema and indexes of [`TABLE`] (on-demand billing, every
/// index projecting all attributes), waits until the table and its indexes are active, then turns
/// on expiry on the TTL attribute. A server that does not support TTL leaves the table without it,
/// with a warning: expiry is a cleanup, never relied on for correctness.
pub async fn create_table(client: &Client, table_name: &str) -> Result<(), TableSetupError> {
    let request = table_request(client.create_table().table_name(table_name)).map_err(|error| {
        TableSetupError::Create {
            table: table_name.to_owned(),
            source: error.into(),
        }
    })?;
    request
        .send()
        .await
        .map_err(|error| TableSetupError::Create {
            table: table_name.to_owned(),
            source: error.into(),
        })?;
    wait_until_active(client, table_name).await?;
    enable_ttl(client, table_name).await;
    Ok(())
}

fn table_request(
    request: CreateTableFluentBuilder,
) -> Result<CreateTableFluentBuilder, BuildError> {
    let key = |attribute: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(key_type)
            .build()
    };
    let mut request = request
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(TABLE.partition_key, KeyType::Hash)?)
        .key_schema(key(TABLE.sort_key, KeyType::Range)?);

    let mut key_attributes = vec![TABLE.partition_key, TABLE.sort_key];
    for index in TABLE.indexes {
        key_attributes.extend([index.partition_key, index.sort_key]);
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.partition_key, KeyType::Hash)?)
                .key_schema(key(index.sort_key, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()?,
        );
    }
    for attribute in key_attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    Ok(request)
}

async fn wait_until_active(client: &Client, table_name: &str) -> Result<(), TableSetupError> {
    let started = tokio::time::Instant::now();
    let mut delay = FIRST_POLL_DELAY;
    loop {
        let output = client
            .describe_table()
            .table_name(table_name)
            .send()
            .await
            .map_err(|error| TableSetupError::Describe {
                table: table_name.to_owned(),
                source: error.into(),
            })?;
        let active = output.table().is_some_and(|table| {
            table.table_status() == Some(&TableStatus::Active)
                && table.global_secondary_indexes().iter().all(|index| {
                    index
                        .index_status()
                        .is_none_or(|status| *status == IndexStatus::Active)
                })
        });
        if active {
            return Ok(());
        }
        if started.elapsed() >= ACTIVE_TIMEOUT {
            return Err(TableSetupError::NotActive {
                table: table_name.to_owned(),
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_POLL_DELAY);
    }
}

async fn enable_ttl(client: &Client, table_name: &str) {
    let specification = match TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(TABLE.ttl_attribute)
        .build()
    {
        Ok(specification) => specification,
        Err(error) => {
            tracing::warn!(table = table_name, error = %error, "TTL specification incomplete; TTL left off");
            return;
        }
    };
    let result = client
        .update_time_to_live()
        .table_name(table_name)
        .time_to_live_specification(specification)
        .send()
        .await;
    if let Err(error) = result {
        tracing::warn!(
            table = table_name,
            error = %DisplayErrorContext(&error),
            "the server did not enable TTL; expired items will stay until deleted"
        );
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::config::BehaviorVersion;
    use aws_sdk_dynamodb::config::Region;

    use super::*;

    #[test]
    fn the_request_declares_the_schema() {
        let client = Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .build(),
        );
        let request = table_request(client.create_table().table_name("t")).expect("complete");
        let input = request.as_input();
        assert_eq!(input.get_billing_mode(), &Some(BillingMode::PayPerRequest));

        let keys: Vec<(&str, &KeyType)> = input
            .get_key_schema()
            .iter()
            .flatten()
            .map(|key| (key.attribute_name(), key.key_type()))
            .collect();
        assert_eq!(
            keys,
            [
                (TABLE.partition_key, &KeyType::Hash),
                (TABLE.sort_key, &KeyType::Range)
            ]
        );

        let indexes = input
            .get_global_secondary_indexes()
            .as_deref()
            .unwrap_or_default();
        assert_eq!(indexes.len(), TABLE.indexes.len());
        for (index, schema) in indexes.iter().zip(TABLE.indexes) {
            assert_eq!(index.index_name(), schema.name);
            let keys: Vec<&str> = index
                .key_schema()
                .iter()
                .map(|key| key.attribute_name())
                .collect();
            assert_eq!(keys, [schema.partition_key, schema.sort_key]);
            assert_eq!(
                index
                    .projection()
                    .and_then(|projection| projection.projection_type()),
                Some(&ProjectionType::All)
            );
        }

        let mut defined: Vec<&str> = input
            .get_attribute_definitions()
            .iter()
            .flatten()
            .inspect(|definition| assert_eq!(definition.attribute_type(), &ScalarAttributeType::S))
            .map(|definition| definition.attribute_name())
            .collect();
        defined.sort_unstable();
        let mut expected = vec![TABLE.partition_key, TABLE.sort_key];
        for index in TABLE.indexes {
            expected.extend([index.partition_key, index.sort_key]);
        }
        expected.sort_unstable();
        assert_eq!(defined, expected);
    }
}
