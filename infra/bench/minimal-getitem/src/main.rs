//! `GET /v1/airplanes/{id}` in its smallest form: the reference binary of the cold-start
//! comparison (`docs/benchmarks.md`). It starts as the `lambda_http` examples do (default tracing
//! subscriber, multi-threaded runtime, the SDK's default configuration with its platform
//! certificates), reads `TABLE_NAME` and `DYNAMODB_ENDPOINT`, and answers each event with the
//! airplane item of the `id` path parameter, its string and number attributes as JSON.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn};
use serde_json::{Map, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = std::env::var("TABLE_NAME")?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&config);
    if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") {
        builder = builder.endpoint_url(endpoint);
    }
    let client = Client::from_conf(builder.build());
    run(service_fn(|event: Request| get_airplane(&client, &table, event))).await
}

async fn get_airplane(client: &Client, table: &str, event: Request) -> Result<Response<Body>, Error> {
    let Some(id) = event.path_parameters_ref().and_then(|params| params.first("id")) else {
        return Ok(Response::builder().status(400).body(Body::Empty)?);
    };
    let output = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("AIRPLANE#{id}")))
        .key("sk", AttributeValue::S("AIRPLANE".into()))
        .send()
        .await?;
    let Some(item) = output.item else {
        return Ok(Response::builder().status(404).body(Body::Empty)?);
    };
    let fields: Map<String, Value> = item
        .into_iter()
        .filter_map(|(name, value)| match value {
            AttributeValue::S(text) => Some((name, Value::String(text))),
            AttributeValue::N(number) => Some((name, Value::String(number))),
            _ => None,
        })
        .collect();
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::Text(Value::Object(fields).to_string()))?)
}
