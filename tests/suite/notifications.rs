//! `/v1/notifications` through the router, on the embedded store and on DynamoDB (moto), over
//! notifications the worker wrote: newest first, the unread filter, paging with cursors bound to
//! their list, reading (idempotent), and another user's notifications out of reach (404).

use std::sync::Arc;

use http::StatusCode;
use itinera::clock::UuidV7Ids;
use itinera::identity::{Principal, Role};
use itinera::jobs::{JobKind, Processed, process_job};
use itinera::storage::Store;
use itinera_http::Api;
use itinera_tests::{TestRequest, api_over, fresh_dynamodb_store, send, spawn_app, token_of};
use serde_json::{Value, json};

use crate::worker::{RecordingMailer, job_for, notifications_of, register_customer, worker};

/// A customer with `count` notifications (written by the worker, oldest first) and their token.
async fn customer_with_notifications(store: &Arc<dyn Store>, count: usize) -> (String, String) {
    let user = register_customer(&**store, "Grace Hopper").await;
    let services = worker(Arc::clone(store), Arc::new(RecordingMailer::new()));
    let kinds = [
        JobKind::BookingConfirmed,
        JobKind::DepartureReminder,
        JobKind::BookingCancelled { refund: None },
        JobKind::BookingExpired,
    ];
    for kind in kinds.into_iter().cycle().take(count) {
        let outcome = process_job(&services, &job_for(&user.id, kind)).await;
        assert_eq!(outcome.unwrap(), Processed::Emailed);
    }
    let token = token_of(&Principal {
        user_id: user.id.clone(),
        role: Role::Customer,
    });
    (user.id.to_string(), token)
}

async fn get(api: &Api, token: &str, target: &str) -> (StatusCode, Value) {
    let response = send(api, TestRequest::get(target).bearer(token)).await;
    (response.status, response.json())
}

async fn read(api: &Api, token: &str, id: &str) -> (StatusCode, Value) {
    let target = format!("/v1/notifications/{id}/read");
    let response = send(api, TestRequest::post(target).bearer(token)).await;
    (response.status, response.json())
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|notification| notification["id"].as_str().expect("an id").to_owned())
        .collect()
}

async fn the_inbox_lists_newest_first_and_reading_leaves_the_unread_list(
    api: &Api,
    store: Arc<dyn Store>,
) {
    let (user_id, token) = customer_with_notifications(&store, 3).await;
    let (status, page) = get(api, &token, "/v1/notifications").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let all = ids(&page);
    assert_eq!(all.len(), 3);
    let mut newest_first = all.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(all, newest_first, "UUIDv7 ids sort by creation");
    let newest = &page["data"][0];
    assert_eq!(newest["kind"], "booking-cancelled");
    assert_eq!(newest["read"], false);
    assert!(newest.get("readAt").is_none(), "{newest}");
    assert!(
        newest["title"]
            .as_str()
            .unwrap()
            .starts_with("Booking cancelled: AI101")
    );
    assert!(newest["bookingId"].is_string() && newest["createdAt"].is_string());
    assert_eq!(page["pagination"], json!({"limit": 20, "nextCursor": null}));

    let (status, marked) = read(api, &token, &all[1]).await;
    assert_eq!(status, StatusCode::OK, "{marked}");
    assert_eq!(marked["data"]["id"], all[1].as_str());
    assert_eq!(marked["data"]["read"], true);
    let read_at = marked["data"]["readAt"]
        .as_str()
        .expect("readAt")
        .to_owned();

    // Reading it again is fine and keeps the first time it was read.
    let (status, again) = read(api, &token, &all[1]).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["data"]["readAt"], read_at.as_str());

    let (status, unread) = get(api, &token, "/v1/notifications?unread=true").await;
    assert_eq!(status, StatusCode::OK, "{unread}");
    assert_eq!(ids(&unread), [all[0].clone(), all[2].clone()]);
    let (_, everything) = get(api, &token, "/v1/notifications?unread=false").await;
    assert_eq!(ids(&everything), all);
    assert_eq!(everything["data"][1]["read"], true);
    assert_eq!(everything["data"][1]["readAt"], read_at.as_str());

    let stored = notifications_of(
        &*store,
        &itinera::identity::UserId::parse(&user_id).unwrap(),
    )
    .await;
    assert_eq!(stored.iter().filter(|n| n.read).count(), 1);
}

async fn pages_follow_cursors_bound_to_their_owner_and_filter(api: &Api, store: Arc<dyn Store>) {
    let (_, token) = customer_with_notifications(&store, 5).await;
    let (_, all) = get(api, &token, "/v1/notifications").await;
    let all = ids(&all);

    let (status, first) = get(api, &token, "/v1/notifications?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let mut walked = ids(&first);
    let cursor = first["pagination"]["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let mut next = Some(cursor.clone());
    while let Some(cursor) = next {
        let (status, page) = get(
            api,
            &token,
            &format!("/v1/notifications?limit=2&cursor={cursor}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        walked.extend(ids(&page));
        next = page["pagination"]["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(walked, all);

    // A cursor resumes only the list it came from: not the unread list, not another user's.
    let (status, _) = get(
        api,
        &token,
        &format!("/v1/notifications?unread=true&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, other_token) = customer_with_notifications(&store, 0).await;
    let (status, problem) = get(
        api,
        &other_token,
        &format!("/v1/notifications?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
}

async fn another_users_notifications_are_out_of_reach(api: &Api, store: Arc<dyn Store>) {
    let (_, owner) = customer_with_notifications(&store, 1).await;
    let (_, stranger) = customer_with_notifications(&store, 0).await;
    let (_, page) = get(api, &owner, "/v1/notifications").await;
    let id = ids(&page).remove(0);

    let (status, problem) = read(api, &stranger, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["detail"], "No notification exists with this id.");
    let (status, theirs) = get(api, &stranger, "/v1/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ids(&theirs).is_empty());
    // The owner's notification is untouched.
    let (_, unread) = get(api, &owner, "/v1/notifications?unread=true").await;
    assert_eq!(ids(&unread), [id.as_str()]);

    let (status, _) = read(api, &owner, &uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = read(api, &owner, "not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn bad_input_is_a_400_that_changes_nothing(api: &Api, store: Arc<dyn Store>) {
    let (_, token) = customer_with_notifications(&store, 1).await;
    for query in [
        "unread=yes",
        "limit=0",
        "limit=101",
        "limit=ten",
        "sort=asc",
        "cursor=forged",
    ] {
        let (status, problem) = get(api, &token, &format!("/v1/notifications?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
    }
    let (_, page) = get(api, &token, "/v1/notifications").await;
    let id = ids(&page).remove(0);
    let with_body = TestRequest::post(format!("/v1/notifications/{id}/read"))
        .bearer(&token)
        .json(&json!({"read": false}));
    let response = send(api, with_body).await;
    response.assert_status(StatusCode::BAD_REQUEST);
    // Whitespace alone is not JSON: refused, as a body that says nothing must be absent or `{}`.
    let blank = TestRequest::post(format!("/v1/notifications/{id}/read"))
        .bearer(&token)
        .raw_body("application/json", "\r");
    send(api, blank)
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    let (_, unread) = get(api, &token, "/v1/notifications?unread=true").await;
    assert_eq!(
        ids(&unread),
        [id.as_str()],
        "the refused request read nothing"
    );

    // An empty JSON object is no body at all.
    let empty = TestRequest::post(format!("/v1/notifications/{id}/read"))
        .bearer(&token)
        .json(&json!({}));
    assert_eq!(send(api, empty).await.status, StatusCode::OK);

    let anonymous = TestRequest::get("/v1/notifications").anonymous();
    assert_eq!(send(api, anonymous).await.status, StatusCode::UNAUTHORIZED);
}

/// Runs each scenario through an API over a fresh embedded store and over a fresh DynamoDB table.
macro_rules! on_both_stores {
    ($($scenario:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let app = super::spawn_app();
                    super::$scenario(&app.api, std::sync::Arc::clone(&app.store)).await;
                }
            )+
        }

        mod dynamodb {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let store = super::fresh_dynamodb_store().await;
                    let api = super::api_over(
                        std::sync::Arc::clone(&store),
                        std::sync::Arc::new(super::UuidV7Ids),
                    );
                    super::$scenario(&api, store).await;
                }
            )+
        }
    };
}

on_both_stores!(
    the_inbox_lists_newest_first_and_reading_leaves_the_unread_list,
    pages_follow_cursors_bound_to_their_owner_and_filter,
    another_users_notifications_are_out_of_reach,
    bad_input_is_a_400_that_changes_nothing,
);
