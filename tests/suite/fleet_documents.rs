//! A car's papers' documents through the API, on both store families with the embedded blob
//! store: uploaded, confirmed onto the paper, replaced, downloaded; and a wrong type, a file too
//! large or not what was declared refused with nothing recorded.

use http::StatusCode;
use itinera::identity::Role;
use itinera_embedded::{BlobRequestError, EmbeddedBlobs};
use itinera_http::Api;
use itinera_tests::files::{download_from, upload_to};
use itinera_tests::{Backend, TestRequest, TestResponse, send, token_for};
use serde_json::{Value, json};

use crate::airports::assert_problem;
use crate::cars::{car_body, vin};

/// An API over a backend's store that signs file URLs with an embedded blob store, called as
/// staff, and one car with one paper of each kind.
struct Papers {
    api: Api,
    blobs: EmbeddedBlobs,
    staff: String,
    _files: tempfile::TempDir,
}

impl Papers {
    fn over(backend: &Backend) -> Self {
        let (api, blobs, files) = backend.api_with_files();
        Self {
            api,
            blobs,
            staff: token_for(Role::Staff),
            _files: files,
        }
    }

    async fn send(&self, request: TestRequest) -> TestResponse {
        send(&self.api, request.bearer(&self.staff)).await
    }

    /// A new car with one paper of `collection`; the paper's path.
    async fn paper(&self, n: u32, collection: &str) -> String {
        let car = self
            .send(TestRequest::post("/v1/cars").json(&car_body(&format!("DOC{n}"), &vin(n))))
            .await;
        assert_eq!(car.status, StatusCode::CREATED);
        let car = car.json()["data"]["id"].as_str().unwrap().to_owned();
        let body = match collection {
            "insurance" => json!({"provider": "Allianz", "policyNumber": "AZ-1",
                "coverage": "partial", "validFrom": "2026-01-01", "validTo": "2026-12-31"}),
            _ => json!({"authority": "DVLA", "registrationNumber": "KA01",
                "validFrom": "2026-01-01", "validTo": "2026-12-31"}),
        };
        let paper = self
            .send(TestRequest::post(format!("/v1/cars/{car}/{collection}")).json(&body))
            .await;
        paper.assert_status(StatusCode::CREATED);
        let id = paper.json()["data"]["id"].as_str().unwrap().to_owned();
        format!("/v1/cars/{car}/{collection}/{id}")
    }

    /// Starts an upload of `content_type` and `size` for `paper`: the answer.
    async fn start(&self, paper: &str, content_type: &str, size: u64) -> TestResponse {
        self.send(
            TestRequest::post(format!("{paper}/document"))
                .json(&json!({"contentType": content_type, "size": size})),
        )
        .await
    }

    /// Starts an upload of `bytes` as `content_type` and sends them: the upload ticket.
    async fn upload(&self, paper: &str, content_type: &str, bytes: &[u8]) -> Value {
        let started = self.start(paper, content_type, bytes.len() as u64).await;
        let ticket = started.created();
        let url = ticket["url"].as_str().unwrap();
        upload_to(&self.blobs, url, content_type, bytes)
            .await
            .unwrap();
        ticket
    }

    async fn confirm(&self, paper: &str, upload_id: &Value) -> TestResponse {
        self.send(
            TestRequest::post(format!("{paper}/document/confirm"))
                .json(&json!({ "uploadId": upload_id })),
        )
        .await
    }
}

async fn a_document_is_confirmed_onto_its_paper_replaced_and_downloaded(backend: Backend) {
    let papers = Papers::over(&backend);
    for (n, collection) in [(1, "insurance"), (2, "registrations")] {
        let paper = papers.paper(n, collection).await;
        assert_problem(
            &papers
                .send(TestRequest::get(format!("{paper}/document")))
                .await,
            404,
        );

        let pdf = b"%PDF-1.7 the policy".as_slice();
        let first = papers.upload(&paper, "application/pdf", pdf).await;
        assert_eq!(first["method"], "PUT");
        let confirmed = papers.confirm(&paper, &first["uploadId"]).await;
        confirmed.assert_status(StatusCode::OK);
        assert_eq!(confirmed.header("etag"), Some("\"2\""));
        let document = &confirmed.json()["data"]["document"];
        assert_eq!(
            (&document["id"], &document["contentType"], &document["size"]),
            (
                &first["uploadId"],
                &json!("application/pdf"),
                &json!(pdf.len())
            )
        );
        let read = papers
            .send(TestRequest::get(format!("{paper}/document")))
            .await;
        read.assert_status(StatusCode::OK);
        let url = read.json()["data"]["url"].as_str().unwrap().to_owned();
        assert_eq!(download_from(&papers.blobs, &url).await.unwrap(), pdf);

        // A second document replaces the first on the paper.
        let png = b"\x89PNG a scan of it".as_slice();
        let second = papers.upload(&paper, "image/png", png).await;
        assert_eq!(
            papers.confirm(&paper, &second["uploadId"]).await.status,
            StatusCode::OK
        );
        let shown = papers.send(TestRequest::get(&paper)).await.json()["data"]["document"].clone();
        assert_eq!(shown["id"], second["uploadId"]);
        let read = papers
            .send(TestRequest::get(format!("{paper}/document")))
            .await;
        let url = read.json()["data"]["url"].as_str().unwrap().to_owned();
        assert_eq!(download_from(&papers.blobs, &url).await.unwrap(), png);
        // The first upload was recorded once; confirming it again finds no pending upload.
        assert_problem(&papers.confirm(&paper, &first["uploadId"]).await, 404);
        let after = papers.send(TestRequest::get(&paper)).await;
        assert_eq!(after.json()["data"]["document"]["id"], second["uploadId"]);
        assert_eq!(after.header("etag"), Some("\"3\""));
    }
}

async fn a_wrong_type_or_size_is_refused_and_nothing_recorded(backend: Backend) {
    let papers = Papers::over(&backend);
    for (n, collection) in [(3, "insurance"), (4, "registrations")] {
        let paper = papers.paper(n, collection).await;
        for (content_type, size, field) in [
            ("text/plain", 100, "contentType"),
            ("application/pdf", 10 * 1024 * 1024 + 1, "size"),
            ("application/pdf", 0, "size"),
        ] {
            let refused = papers.start(&paper, content_type, size).await;
            let problem = assert_problem(&refused, 400);
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }

        let started = papers.start(&paper, "application/pdf", 100).await;
        let ticket = started.json()["data"].clone();
        let url = ticket["url"].as_str().unwrap();
        let wrong_type = upload_to(&papers.blobs, url, "image/png", &[0; 100]).await;
        assert!(matches!(
            wrong_type,
            Err(BlobRequestError::WrongContentType)
        ));
        let too_large = upload_to(&papers.blobs, url, "application/pdf", &[0; 101]).await;
        assert!(matches!(too_large, Err(BlobRequestError::TooLarge)));
        assert_problem(&papers.confirm(&paper, &ticket["uploadId"]).await, 409);

        // Shorter than declared: the URL signs the exact size, so the store refuses it too.
        let too_short = upload_to(&papers.blobs, url, "application/pdf", &[0; 50]).await;
        assert!(matches!(too_short, Err(BlobRequestError::Incomplete)));
        assert_problem(&papers.confirm(&paper, &ticket["uploadId"]).await, 409);

        assert_problem(
            &papers
                .send(TestRequest::get(format!("{paper}/document")))
                .await,
            404,
        );
        let read = papers.send(TestRequest::get(&paper)).await;
        assert!(read.json()["data"].get("document").is_none());
        assert_eq!(
            read.header("etag"),
            Some("\"1\""),
            "the paper never changed"
        );
    }
}

on_both_families!(
    a_document_is_confirmed_onto_its_paper_replaced_and_downloaded,
    a_wrong_type_or_size_is_refused_and_nothing_recorded,
);
