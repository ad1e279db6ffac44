//! `Store` on a DynamoDB table: one SDK call per port operation, expressions rendered from the
//! typed requests, SDK errors mapped onto `StoreError`.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{self, ReturnValue, TransactWriteItem};
use itinera::storage::{
    Delete, Item, Key, MAX_QUERY_LIMIT, MAX_TRANSACTION_OPERATIONS, Order, Page, Put, Query, Store,
    StoreError, Update, WriteOp,
};

use super::convert::{AttributeMap, from_attributes, key_attributes, to_attributes};
use super::errors::{from_sdk, from_transaction};
use super::expression::Expressions;

/// The key `check_health` reads; the item need not exist.
const HEALTH_PK: &str = "HEALTH";
const HEALTH_SK: &str = "HEALTH";

/// The storage port on one DynamoDB table. Cheap to clone: the client shares its connections.
#[derive(Clone, Debug)]
pub struct DynamoDbStore {
    client: Client,
    table_name: String,
}

impl DynamoDbStore {
    pub fn new(client: Client, table_name: impl Into<String>) -> Self {
        Self {
            client,
            table_name: table_name.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table_name
    }
}

/// The key of an item for log fields; empty when the item lacks one (DynamoDB then rejects it).
fn item_key(item: &Item) -> String {
    Key::of(item).map(|key| key.to_string()).unwrap_or_default()
}

fn read_item(attributes: AttributeMap) -> Result<Item, StoreError> {
    from_attributes(attributes).map_err(StoreError::internal)
}

fn read_optional(attributes: Option<AttributeMap>) -> Result<Option<Item>, StoreError> {
    attributes.map(read_item).transpose()
}

#[async_trait]
impl Store for DynamoDbStore {
    #[tracing::instrument(skip_all, fields(table = %self.table_name, key = %key))]
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        read_optional(output.item)
    }

    #[tracing::instrument(skip_all, fields(table = %self.table_name, key = %item_key(&put.item)))]
    async fn put(&self, put: Put) -> Result<(), StoreError> {
        let mut expressions = Expressions::new();
        let condition = put
            .condition
            .as_ref()
            .map(|condition| expressions.condition(condition));
        let placeholders = expressions.into_placeholders();
        self.client
            .put_item()
            .table_name(&self.table_name)
            .set_item(Some(to_attributes(&put.item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(placeholders.names)
            .set_expression_attribute_values(placeholders.values)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(table = %self.table_name, key = %update.key))]
    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        let mut expressions = Expressions::new();
        let expression = expressions.update(&update);
        let condition = update
            .condition
            .as_ref()
            .map(|condition| expressions.condition(condition));
        let placeholders = expressions.into_placeholders();
        let output = self
            .client
            .update_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(&update.key)))
            .set_update_expression(expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(placeholders.names)
            .set_expression_attribute_values(placeholders.values)
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(from_sdk)?;
        // ALL_NEW always returns the item, which exists after any successful update.
        let attributes = output.attributes.ok_or_else(|| {
            StoreError::internal("UpdateItem with ALL_NEW returned no attributes")
        })?;
        read_item(attributes)
    }

    #[tracing::instrument(skip_all, fields(table = %self.table_name, key = %delete.key))]
    async fn delete(&self, delete: Delete) -> Result<Option<Item>, StoreError> {
        let mut expressions = Expressions::new();
        let condition = delete
            .condition
            .as_ref()
            .map(|condition| expressions.condition(condition));
        let placeholders = expressions.into_placeholders();
        let output = self
            .client
            .delete_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(&delete.key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(placeholders.names)
            .set_expression_attribute_values(placeholders.values)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(from_sdk)?;
        read_optional(output.attributes)
    }

    #[tracing::instrument(skip_all, fields(table = %self.table_name, operations = operations.len()))]
    async fn transact(&self, operations: Vec<WriteOp>) -> Result<(), StoreError> {
        // DynamoDB refuses these too; checking first keeps the message independent of the server.
        if !(1..=MAX_TRANSACTION_OPERATIONS).contains(&operations.len()) {
            return Err(StoreError::Invalid(format!(
                "a transaction holds 1 to {MAX_TRANSACTION_OPERATIONS} operations, not {}",
                operations.len()
            )));
        }
        let items = operations
            .iter()
            .map(|operation| transact_item(&self.table_name, operation))
            .collect::<Result<Vec<_>, _>>()?;
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(from_transaction)?;
        Ok(())
    }

    #[tracing::instrument(
        skip_all,
        fields(
            table = %self.table_name,
            index = query.index.map_or("table", |index| index.name()),
            partition = %query.partition,
        )
    )]
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        if !(1..=MAX_QUERY_LIMIT).contains(&query.limit) {
            return Err(StoreError::Invalid(format!(
                "a query limit is 1 to {MAX_QUERY_LIMIT}, not {}",
                query.limit
            )));
        }
        let mut expressions = Expressions::new();
        let key_condition = expressions.key_condition(&query);
        let filter = query
            .filter
            .as_ref()
            .map(|filter| expressions.condition(filter));
        let placeholders = expressions.into_placeholders();
        let output = self
            .client
            .query()
            .table_name(&self.table_name)
            .set_index_name(query.index.map(|index| index.name().to_owned()))
            // Strongly consistent on the table, as the port promises; indexes cannot be.
            .consistent_read(query.index.is_none())
            .key_condition_expression(key_condition)
            .set_filter_expression(filter)
            .set_expression_attribute_names(placeholders.names)
            .set_expression_attribute_values(placeholders.values)
            .scan_index_forward(query.order == Order::Ascending)
            .limit(i32::try_from(query.limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(query.start_after.as_ref().map(to_attributes))
            .send()
            .await
            .map_err(from_sdk)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(read_item)
            .collect::<Result<Vec<_>, _>>()?;
        // DynamoDB sends an empty map on some pages where nothing is left; either way there is
        // no next page.
        let last_evaluated_key = output.last_evaluated_key.filter(|key| !key.is_empty());
        Ok(Page {
            items,
            last_evaluated_key: read_optional(last_evaluated_key)?,
        })
    }

    #[tracing::instrument(skip_all, fields(table = %self.table_name))]
    async fn check_health(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.table_name)
            .set_key(Some(key_attributes(&Key::new(HEALTH_PK, HEALTH_SK))))
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }
}

/// One operation of a `TransactWriteItems` request. Each carries its own placeholder maps.
fn transact_item(table_name: &str, operation: &WriteOp) -> Result<TransactWriteItem, StoreError> {
    let mut expressions = Expressions::new();
    let item = match operation {
        WriteOp::Put(put) => {
            let condition = put
                .condition
                .as_ref()
                .map(|condition| expressions.condition(condition));
            let placeholders = expressions.into_placeholders();
            let put = types::Put::builder()
                .table_name(table_name)
                .set_item(Some(to_attributes(&put.item)))
                .set_condition_expression(condition)
                .set_expression_attribute_names(placeholders.names)
                .set_expression_attribute_values(placeholders.values)
                .build()
                .map_err(StoreError::internal)?;
            TransactWriteItem::builder().put(put)
        }
        WriteOp::Update(update) => {
            // Unlike UpdateItem, a transaction's Update requires an expression.
            let expression = expressions.update(update).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "the update of {} in a transaction changes no attribute",
                    update.key
                ))
            })?;
            let condition = update
                .condition
                .as_ref()
                .map(|condition| expressions.condition(condition));
            let placeholders = expressions.into_placeholders();
            let update = types::Update::builder()
                .table_name(table_name)
                .set_key(Some(key_attributes(&update.key)))
                .update_expression(expression)
                .set_condition_expression(condition)
                .set_expression_attribute_names(placeholders.names)
                .set_expression_attribute_values(placeholders.values)
                .build()
                .map_err(StoreError::internal)?;
            TransactWriteItem::builder().update(update)
        }
        WriteOp::Delete(delete) => {
            let condition = delete
                .condition
                .as_ref()
                .map(|condition| expressions.condition(condition));
            let placeholders = expressions.into_placeholders();
            let delete = types::Delete::builder()
                .table_name(table_name)
                .set_key(Some(key_attributes(&delete.key)))
                .set_condition_expression(condition)
                .set_expression_attribute_names(placeholders.names)
                .set_expression_attribute_values(placeholders.values)
                .build()
                .map_err(StoreError::internal)?;
            TransactWriteItem::builder().delete(delete)
        }
        WriteOp::Check { key, condition } => {
            let condition = expressions.condition(condition);
            let placeholders = expressions.into_placeholders();
            let check = types::ConditionCheck::builder()
                .table_name(table_name)
                .set_key(Some(key_attributes(key)))
                .condition_expression(condition)
                .set_expression_attribute_names(placeholders.names)
                .set_expression_attribute_values(placeholders.values)
                .build()
                .map_err(StoreError::internal)?;
            TransactWriteItem::builder().condition_check(check)
        }
    };
    Ok(item.build())
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;
    use itinera::storage::Condition;
    use serde_json::json;

    use super::*;

    #[test]
    fn transaction_operations_carry_their_own_expressions() {
        let mut item = Item::new();
        Key::new("A", "1").write_into(&mut item);
        item.insert("name".into(), json!("x"));
        let put = transact_item(
            "t",
            &WriteOp::Put(Put {
                item,
                condition: Some(Condition::ItemNotExists),
            }),
        )
        .expect("valid");
        let put = put.put().expect("a put");
        assert_eq!(put.table_name(), "t");
        assert_eq!(
            put.condition_expression(),
            Some("attribute_not_exists(#n0)")
        );
        assert_eq!(put.item()["name"], AttributeValue::S("x".into()));
        assert_eq!(put.expression_attribute_values(), None);

        let check = transact_item(
            "t",
            &WriteOp::Check {
                key: Key::new("A", "2"),
                condition: Condition::version_is(7),
            },
        )
        .expect("valid");
        let check = check.condition_check().expect("a check");
        assert_eq!(check.condition_expression(), "#n0 = :v0");
        assert_eq!(check.key()["sk"], AttributeValue::S("2".into()));
        assert_eq!(
            check
                .expression_attribute_values()
                .map(|values| &values[":v0"]),
            Some(&AttributeValue::N("7".into()))
        );

        let delete = transact_item(
            "t",
            &WriteOp::Delete(Delete {
                key: Key::new("A", "3"),
                condition: None,
            }),
        )
        .expect("valid");
        let delete = delete.delete().expect("a delete");
        assert_eq!(delete.condition_expression(), None);
        assert_eq!(delete.expression_attribute_names(), None);
    }

    #[test]
    fn an_update_of_nothing_cannot_join_a_transaction() {
        let result = transact_item("t", &WriteOp::Update(Update::new(Key::new("A", "1"))));
        assert!(matches!(result, Err(StoreError::Invalid(_))));

        let mut update = Update::new(Key::new("A", "1"));
        update.add = vec![("count".into(), -1)];
        update.condition = Some(Condition::compare(
            "count",
            itinera::storage::Comparison::Greater,
            0,
        ));
        let item = transact_item("t", &WriteOp::Update(update)).expect("valid");
        let update = item.update().expect("an update");
        assert_eq!(update.update_expression(), "ADD #n0 :v0");
        assert_eq!(update.condition_expression(), Some("#n0 > :v1"));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        // Port 1 on the loopback interface refuses connections on any ordinary machine.
        let mut config = crate::DynamoDbConfig::new("itinera");
        config.endpoint = Some("http://127.0.0.1:1".into());
        let client = crate::build_local_client(&config).expect("an endpoint is set");
        let store = DynamoDbStore::new(client, "itinera");
        let outcome = store.check_health().await;
        assert!(
            matches!(outcome, Err(StoreError::Unavailable(_))),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out_as_unavailable() {
        // Accepts connections and reads nothing, like a host that hangs mid-request.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let address = listener.local_addr().expect("the bound address");
        let held = tokio::spawn(async move {
            let mut connections = Vec::new();
            while let Ok((connection, _)) = listener.accept().await {
                connections.push(connection);
            }
        });
        let mut config = crate::DynamoDbConfig::new("itinera");
        config.endpoint = Some(format!("http://{address}"));
        config.attempt_timeout = std::time::Duration::from_millis(100);
        config.operation_timeout = std::time::Duration::from_millis(400);
        let client = crate::build_local_client(&config).expect("an endpoint is set");
        let store = DynamoDbStore::new(client, "itinera");

        // The server never answers, so only the configured timeouts can end the call: an answer
        // at all proves they apply. The outer bound only keeps a regression from hanging the run.
        let outcome = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            store.get(&Key::new("A", "B")),
        )
        .await
        .expect("the operation timeout ends the call");
        assert!(
            matches!(outcome, Err(StoreError::Unavailable(_))),
            "{outcome:?}"
        );
        held.abort();
    }

    #[test]
    fn log_keys_come_from_the_item() {
        let mut item = Item::new();
        assert_eq!(item_key(&item), "");
        Key::new("P", "S").write_into(&mut item);
        assert_eq!(item_key(&item), "P|S");
    }
}
