//! The local API's HTTP front end over a real socket: compression, body limits while streaming,
//! and graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use itinera::identity::Role;
use itinera_tests::{spawn_app, token_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A running local server and the means to stop it.
pub(super) struct Server {
    pub(super) address: std::net::SocketAddr,
    pub(super) stop: oneshot::Sender<()>,
    pub(super) stopped: tokio::task::JoinHandle<()>,
    _app: Arc<itinera_tests::TestApp>,
}

pub(super) async fn start() -> Server {
    let app = Arc::new(spawn_app());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped_signal) = oneshot::channel::<()>();
    let api = Arc::new(itinera_tests::api_over(
        Arc::clone(&app.store),
        Arc::new(itinera::clock::UuidV7Ids),
    ));
    let stopped = tokio::spawn(local_api::serve(listener, api, None, async move {
        let _ = stopped_signal.await;
    }));
    Server {
        address,
        stop,
        stopped,
        _app: app,
    }
}

/// Sends raw HTTP/1.1 as a staff member and reads the whole response (the request asks to close
/// the connection).
pub(super) async fn exchange(address: std::net::SocketAddr, request: &[u8]) -> Vec<u8> {
    let line_end = request
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a request line")
        + 2;
    let authorization = format!("authorization: Bearer {}\r\n", token_for(Role::Staff));
    let request = [
        &request[..line_end],
        authorization.as_bytes(),
        &request[line_end..],
    ]
    .concat();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("the server answers")
        .ok();
    response
}

pub(super) fn head(response: &[u8]) -> String {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    String::from_utf8_lossy(&response[..end]).to_lowercase()
}

fn post(body: &str) -> Vec<u8> {
    format!(
        "POST /v1/airplanes HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn large_responses_are_gzipped_for_clients_that_accept_it_and_small_ones_are_not() {
    let server = start().await;
    for n in 0..20 {
        let response = exchange(
            server.address,
            &post(&format!(
                "{{\"modelNumber\":\"Model {n}\",\"capacity\":{}}}",
                n + 1
            )),
        )
        .await;
        assert!(
            head(&response).starts_with("http/1.1 201"),
            "{}",
            head(&response)
        );
    }
    let list = b"GET /v1/airplanes HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\naccept-encoding: gzip\r\n\r\n";
    let compressed = head(&exchange(server.address, list).await);
    assert!(
        compressed.contains("content-encoding: gzip"),
        "{compressed}"
    );
    let health = b"GET /v1/health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\naccept-encoding: gzip\r\n\r\n";
    let small = head(&exchange(server.address, health).await);
    assert!(
        small.starts_with("http/1.1 200") && !small.contains("content-encoding"),
        "{small}"
    );
    let plain = b"GET /v1/airplanes HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    assert!(!head(&exchange(server.address, plain).await).contains("content-encoding"));
    server.stop.send(()).unwrap();
    server.stopped.await.unwrap();
}

#[tokio::test]
async fn an_oversized_body_is_413_without_being_stored() {
    let server = start().await;
    let body = format!(
        "{{\"modelNumber\":\"{}\",\"capacity\":1}}",
        "x".repeat(100 * 1024)
    );
    let response = exchange(server.address, &post(&body)).await;
    let head = head(&response);
    assert!(head.starts_with("http/1.1 413"), "{head}");
    assert!(head.contains("content-type: application/problem+json"));
    let list = b"GET /v1/airplanes HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    let listed = exchange(server.address, list).await;
    assert!(String::from_utf8_lossy(&listed).contains("\"data\":[]"));
    server.stop.send(()).unwrap();
    server.stopped.await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_accepting_and_lets_the_server_finish() {
    let server = start().await;
    let health = b"GET /v1/health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    assert!(head(&exchange(server.address, health).await).starts_with("http/1.1 200"));
    server.stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), server.stopped)
        .await
        .expect("serve returns after shutdown")
        .unwrap();
    assert!(TcpStream::connect(server.address).await.is_err());
}

#[tokio::test]
async fn the_openapi_document_is_served_anonymously_as_json() {
    let server = start().await;
    let request = b"GET /openapi.json HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let head = head(&response);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    let body_start = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let served: serde_json::Value = serde_json::from_slice(&response[body_start..]).unwrap();
    assert_eq!(served, itinera_http::openapi::document());
    server.stop.send(()).unwrap();
    server.stopped.await.unwrap();
}
