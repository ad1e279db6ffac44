//! The audit log: every airplane change writes its entry in the same transaction, rejected
//! changes write none, and entity and actor histories read back newest first, by time range, in
//! pages.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use itinera::airplanes::{
    self, Airplane, AirplaneChanges, AirplaneId, Capacity, ModelNumber, NewAirplane,
};
use itinera::audit::{
    self, Action, AuditEntry, AuditPage, TimeRange, list_actor_history, list_entity_history,
};
use itinera::clock::{Clock, SystemClock, UuidV7Ids};
use itinera::entity::EntityKind;
use itinera::identity::{Actor, Principal, RequestContext, Role, UserId};
use itinera::pagination::PageLimit;
use itinera::storage::{Item, Key, Store, Update, WriteOp};
use itinera::version::Precondition;
use itinera_embedded::EmbeddedStore;
use itinera_tests::{
    TestApp, TestRequest, TestResponse, api_over, fresh_dynamodb_store, send, spawn_app, token_for,
};
use serde_json::{Value, json};

const AIRPLANE: EntityKind = EntityKind::Airplane;

/// Lets the system clock (millisecond precision) move on, so the next change gets a later time.
async fn next_millisecond() {
    tokio::time::sleep(Duration::from_millis(2)).await;
}

fn context(request_id: &str, user: Option<&UserId>) -> RequestContext {
    RequestContext {
        request_id: request_id.into(),
        principal: user.map(|user_id| Principal {
            user_id: user_id.clone(),
            role: Role::Staff,
        }),
    }
}

fn new_user() -> UserId {
    UserId::from(uuid::Uuid::now_v7())
}

fn new_airplane(model_number: &str, capacity: i64) -> NewAirplane {
    NewAirplane {
        model_number: ModelNumber::parse(model_number).unwrap(),
        capacity: Capacity::try_from(capacity).unwrap(),
    }
}

fn capacity_change(capacity: i64) -> AirplaneChanges {
    AirplaneChanges::new(None, Some(Capacity::try_from(capacity).unwrap())).unwrap()
}

async fn create(
    app: &TestApp,
    clock: &dyn Clock,
    context: &RequestContext,
    model_number: &str,
) -> Airplane {
    airplanes::create_airplane(
        &*app.store,
        clock,
        &UuidV7Ids,
        context,
        new_airplane(model_number, 100),
    )
    .await
    .unwrap()
}

async fn update(
    app: &TestApp,
    clock: &dyn Clock,
    context: &RequestContext,
    id: &AirplaneId,
    capacity: i64,
) -> Airplane {
    airplanes::update_airplane(
        &*app.store,
        clock,
        &UuidV7Ids,
        context,
        id,
        &capacity_change(capacity),
        &Precondition::None,
    )
    .await
    .unwrap()
}

/// Every entry of one entity's history in the range, following pages of `limit`.
async fn entity_history(
    store: &dyn Store,
    id: &str,
    range: TimeRange,
    limit: u32,
) -> Vec<AuditEntry> {
    all_pages(limit, |limit, start_after| {
        list_entity_history(store, AIRPLANE, id, range, limit, start_after)
    })
    .await
}

/// Every entry of one actor's history in the range, following pages of `limit`.
async fn actor_history(
    store: &dyn Store,
    actor: &Actor,
    range: TimeRange,
    limit: u32,
) -> Vec<AuditEntry> {
    all_pages(limit, |limit, start_after| {
        list_actor_history(store, actor, range, limit, start_after)
    })
    .await
}

async fn all_pages<F, Fut>(limit: u32, mut page: F) -> Vec<AuditEntry>
where
    F: FnMut(PageLimit, Option<Item>) -> Fut,
    Fut: Future<Output = Result<AuditPage, itinera::error::DomainError>>,
{
    let limit = PageLimit::try_from(i64::from(limit)).unwrap();
    let mut entries = Vec::new();
    let mut start_after = None;
    loop {
        let AuditPage {
            entries: found,
            next,
        } = page(limit, start_after).await.unwrap();
        assert!(found.len() <= limit.get() as usize);
        entries.extend(found);
        match next {
            Some(key) => start_after = Some(key),
            None => return entries,
        }
    }
}

fn ids(entries: &[AuditEntry]) -> Vec<&str> {
    entries.iter().map(|entry| entry.id.as_str()).collect()
}

fn object(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn request_id(response: &TestResponse) -> String {
    response.header("x-request-id").unwrap().to_owned()
}

fn assert_newest_first(entries: &[AuditEntry]) {
    for pair in entries.windows(2) {
        assert!(
            pair[0].at >= pair[1].at,
            "{:?} before {:?}",
            pair[0],
            pair[1]
        );
    }
}

#[tokio::test]
async fn each_airplane_change_over_http_is_recorded_with_its_request_and_changed_fields() {
    let app = spawn_app();
    let created = app
        .send(
            TestRequest::post("/v1/airplanes")
                .json(&json!({"modelNumber": "E190", "capacity": 100})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let airplane = created.json()["data"].clone();
    let id = airplane["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/airplanes/{id}");
    next_millisecond().await;
    let updated = app
        .send(TestRequest::patch(&path).json(&json!({"capacity": 110})))
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    let after_update = updated.json()["data"].clone();
    let deleted = app.send(TestRequest::delete(&path)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let history = entity_history(&*app.store, &id, TimeRange::default(), 20).await;
    let actions: Vec<Action> = history.iter().map(|entry| entry.action).collect();
    assert_eq!(actions, [Action::Delete, Action::Update, Action::Create]);
    let [delete, update, create] = &history[..] else {
        unreachable!("three entries");
    };
    for entry in &history {
        assert_eq!(entry.entity_type, AIRPLANE);
        assert_eq!(entry.entity_id, id);
        assert_eq!(entry.actor, format!("user:{}", app.staff.user_id));
    }
    assert_eq!(create.request_id, request_id(&created));
    assert_eq!(update.request_id, request_id(&updated));
    assert_eq!(delete.request_id, request_id(&deleted));

    assert!(create.before.is_empty());
    assert_eq!(Value::Object(create.after.clone()), airplane);
    assert_eq!(json!(create.at), airplane["createdAt"]);

    // Only the capacity and the timestamp changed; the model number is not repeated.
    assert_eq!(
        Value::Object(update.before.clone()),
        json!({"capacity": 100, "updatedAt": airplane["updatedAt"]})
    );
    assert_eq!(
        Value::Object(update.after.clone()),
        json!({"capacity": 110, "updatedAt": after_update["updatedAt"]})
    );
    assert_eq!(json!(update.at), after_update["updatedAt"]);

    assert_eq!(Value::Object(delete.before.clone()), after_update);
    assert!(delete.after.is_empty());
}

#[tokio::test]
async fn a_signed_in_callers_changes_are_recorded_under_their_user() {
    let app = spawn_app();
    let user = new_user();
    let airplane = create(
        &app,
        &SystemClock,
        &context("req-create", Some(&user)),
        "A320",
    )
    .await;
    next_millisecond().await;
    let changes = AirplaneChanges::new(Some(ModelNumber::parse("A321").unwrap()), None).unwrap();
    let changed = airplanes::update_airplane(
        &*app.store,
        &SystemClock,
        &UuidV7Ids,
        &context("req-update", Some(&user)),
        &airplane.id,
        &changes,
        &Precondition::OneOf(vec![1]),
    )
    .await
    .unwrap();
    assert_eq!(changed.version, 2);

    let history = entity_history(&*app.store, airplane.id.as_str(), TimeRange::default(), 20).await;
    assert_eq!(history.len(), 2);
    let update = &history[0];
    assert_eq!(update.action, Action::Update);
    assert_eq!(update.actor, format!("user:{user}"));
    assert_eq!(update.request_id, "req-update");
    assert_eq!(update.at, changed.updated_at);
    let (before, after) = (json!(airplane), json!(changed));
    assert_eq!(
        Value::Object(update.before.clone()),
        json!({"modelNumber": "A320", "updatedAt": before["updatedAt"]})
    );
    assert_eq!(
        Value::Object(update.after.clone()),
        json!({"modelNumber": "A321", "updatedAt": after["updatedAt"]})
    );
    assert_eq!(history[1].action, Action::Create);
    assert_eq!(history[1].request_id, "req-create");
    assert_eq!(history[1].actor, format!("user:{user}"));
}

#[tokio::test]
async fn rejected_changes_leave_no_entry() {
    let app = spawn_app();
    let (airplane, etag) = app.create_airplane("Q400", 78).await;
    let id = airplane["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/airplanes/{id}");
    let updated = app
        .send(
            TestRequest::patch(&path)
                .header("if-match", &etag)
                .json(&json!({"capacity": 80})),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    let missing = "0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f";
    let rejected = [
        (
            TestRequest::post("/v1/airplanes").json(&json!({"modelNumber": "X", "capacity": 0})),
            400,
        ),
        (
            TestRequest::patch(&path).json(&json!({"capacity": 1001})),
            400,
        ),
        (
            TestRequest::patch(&path)
                .header("if-match", &etag)
                .json(&json!({"capacity": 90})),
            412,
        ),
        (TestRequest::delete(&path).header("if-match", &etag), 412),
        (TestRequest::delete(format!("/v1/airplanes/{missing}")), 404),
        (
            TestRequest::patch(format!("/v1/airplanes/{missing}")).json(&json!({"capacity": 5})),
            404,
        ),
    ];
    for (request, status) in rejected {
        let response = app.send(request).await;
        assert_eq!(response.status.as_u16(), status, "{:?}", response.json());
    }
    // An airplane still in use by a flight cannot be deleted, and the refusal is not recorded.
    let mut in_use = Update::new(Key::new(format!("AIRPLANE#{id}"), "AIRPLANE"));
    in_use.add.push(("activeFlights".into(), 1));
    app.store.update(in_use).await.unwrap();
    let refused = app.send(TestRequest::delete(&path)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);

    let history = entity_history(&*app.store, &id, TimeRange::default(), 20).await;
    let actions: Vec<Action> = history.iter().map(|entry| entry.action).collect();
    assert_eq!(actions, [Action::Update, Action::Create]);
    assert!(
        entity_history(&*app.store, missing, TimeRange::default(), 20)
            .await
            .is_empty()
    );
    let staff = Actor::User(app.staff.user_id.clone());
    let everything = actor_history(&*app.store, &staff, TimeRange::default(), 100).await;
    assert_eq!(everything.len(), 2, "{everything:?}");
}

#[tokio::test]
async fn entity_history_pages_newest_first_without_duplicates_or_gaps() {
    let app = spawn_app();
    let context = context("req", Some(&new_user()));
    let airplane = create(&app, &SystemClock, &context, "A350").await;
    for capacity in 101..=110 {
        // Changes may share a millisecond: the entry id keeps their keys apart.
        update(&app, &SystemClock, &context, &airplane.id, capacity).await;
    }
    let everything =
        entity_history(&*app.store, airplane.id.as_str(), TimeRange::default(), 100).await;
    assert_eq!(everything.len(), 11);
    assert_newest_first(&everything);
    assert_eq!(everything[10].action, Action::Create);

    for limit in [1, 3, 4, 11] {
        let paged = entity_history(
            &*app.store,
            airplane.id.as_str(),
            TimeRange::default(),
            limit,
        )
        .await;
        assert_eq!(ids(&paged), ids(&everything), "pages of {limit}");
        let unique: HashSet<&str> = ids(&paged).into_iter().collect();
        assert_eq!(unique.len(), paged.len());
    }
}

#[tokio::test]
async fn actor_history_holds_only_that_actors_changes_newest_first_in_pages() {
    let app = spawn_app();
    let (alice, bob) = (new_user(), new_user());
    let as_alice = context("req-alice", Some(&alice));
    let as_bob = context("req-bob", Some(&bob));
    let mut alices = Vec::new();
    for model in ["A220", "A320", "A330"] {
        next_millisecond().await;
        alices.push(create(&app, &SystemClock, &as_alice, model).await);
        next_millisecond().await;
        create(&app, &SystemClock, &as_bob, model).await;
    }
    next_millisecond().await;
    update(&app, &SystemClock, &as_alice, &alices[0].id, 150).await;
    next_millisecond().await;
    airplanes::delete_airplane(
        &*app.store,
        &SystemClock,
        &UuidV7Ids,
        &as_alice,
        &alices[1].id,
        &Precondition::None,
    )
    .await
    .unwrap();

    let alice_actor = Actor::User(alice.clone());
    let history = actor_history(&*app.store, &alice_actor, TimeRange::default(), 100).await;
    let summary: Vec<(Action, &str)> = history
        .iter()
        .map(|entry| (entry.action, entry.entity_id.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Action::Delete, alices[1].id.as_str()),
            (Action::Update, alices[0].id.as_str()),
            (Action::Create, alices[2].id.as_str()),
            (Action::Create, alices[1].id.as_str()),
            (Action::Create, alices[0].id.as_str()),
        ]
    );
    assert!(
        history
            .iter()
            .all(|entry| entry.actor == format!("user:{alice}"))
    );
    assert_newest_first(&history);
    let paged = actor_history(&*app.store, &alice_actor, TimeRange::default(), 2).await;
    assert_eq!(ids(&paged), ids(&history));

    let bobs = actor_history(&*app.store, &Actor::User(bob), TimeRange::default(), 100).await;
    assert_eq!(bobs.len(), 3);
    assert!(bobs.iter().all(|entry| entry.request_id == "req-bob"));
    assert!(
        actor_history(&*app.store, &Actor::System, TimeRange::default(), 100)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn histories_honour_the_time_range_inclusively_at_both_ends() {
    let app = spawn_app();
    let user = new_user();
    let context = context("req", Some(&user));
    let airplane = create(&app, &SystemClock, &context, "B737").await;
    for capacity in [101, 102, 103] {
        next_millisecond().await;
        update(&app, &SystemClock, &context, &airplane.id, capacity).await;
    }
    let mut oldest_first =
        entity_history(&*app.store, airplane.id.as_str(), TimeRange::default(), 100).await;
    oldest_first.reverse();
    let at: Vec<_> = oldest_first.iter().map(|entry| entry.at).collect();
    assert!(at.windows(2).all(|pair| pair[0] < pair[1]), "{at:?}");
    let range = |from: Option<usize>, to: Option<usize>| TimeRange {
        from: from.map(|index| at[index]),
        to: to.map(|index| at[index]),
    };
    let cases = [
        (range(Some(1), Some(2)), vec![2, 1]),
        (range(Some(1), Some(1)), vec![1]),
        (range(Some(2), None), vec![3, 2]),
        (range(None, Some(1)), vec![1, 0]),
        (range(None, None), vec![3, 2, 1, 0]),
        (range(Some(3), Some(0)), vec![]),
    ];
    let actor = Actor::User(user);
    for (range, expected) in cases {
        let expected: Vec<&str> = expected
            .iter()
            .map(|index: &usize| oldest_first[*index].id.as_str())
            .collect();
        let by_entity = entity_history(&*app.store, airplane.id.as_str(), range, 1).await;
        assert_eq!(ids(&by_entity), expected, "{range:?}");
        let by_actor = actor_history(&*app.store, &actor, range, 1).await;
        assert_eq!(ids(&by_actor), expected, "{range:?}");
    }
    let after_everything = TimeRange {
        from: Some("2999-01-01T00:00:00Z".parse().unwrap()),
        to: None,
    };
    assert!(
        entity_history(&*app.store, airplane.id.as_str(), after_everything, 5)
            .await
            .is_empty()
    );
}

#[test]
fn an_entry_reads_back_as_the_typed_view() {
    let user = new_user();
    let change = audit::Change {
        entity_type: AIRPLANE,
        entity_id: "a1".into(),
        action: Action::Update,
        before: object(json!({"capacity": 1})),
        after: object(json!({"capacity": 2})),
    };
    let at = "2026-11-21T10:00:00.123Z".parse().unwrap();
    let WriteOp::Put(put) = audit::entry(
        &change,
        &context("req-1", Some(&user)),
        at,
        uuid::Uuid::nil(),
    ) else {
        panic!("an entry is a put");
    };
    let view = serde_json::to_value(
        serde_json::from_value::<AuditEntry>(Value::Object(put.item)).unwrap(),
    )
    .unwrap();
    assert_eq!(
        view,
        json!({
            "id": "00000000-0000-0000-0000-000000000000",
            "entityType": "airplane",
            "entityId": "a1",
            "action": "update",
            "actor": format!("user:{user}"),
            "requestId": "req-1",
            "at": "2026-11-21T10:00:00.123Z",
            "before": {"capacity": 1},
            "after": {"capacity": 2},
        })
    );
}

/// The audit filter over HTTP on `store`: the lowercase API form, in any case, finds the entries;
/// an unknown type is a 400 that lists the accepted ones; the stored item names its kind in the
/// same form.
async fn the_audit_filter_takes_entity_types_in_any_case(store: Arc<dyn Store>) {
    let api = api_over(Arc::clone(&store), Arc::new(UuidV7Ids));
    let admin = token_for(Role::Admin);
    let created = send(
        &api,
        TestRequest::post("/v1/airplanes")
            .bearer(&admin)
            .json(&json!({"modelNumber": "E190", "capacity": 100})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["data"]["id"].as_str().unwrap().to_owned();

    for spelling in ["airplane", "Airplane", "AIRPLANE"] {
        let listed = send(
            &api,
            TestRequest::get(format!("/v1/audit?entityType={spelling}&entityId={id}"))
                .bearer(&admin),
        )
        .await;
        assert_eq!(listed.status, StatusCode::OK, "{spelling}");
        let entries = listed.json()["data"].as_array().cloned().unwrap();
        assert_eq!(entries.len(), 1, "{spelling}: {entries:?}");
        assert_eq!(entries[0]["entityType"], "airplane");
        assert_eq!(entries[0]["entityId"], id.as_str());
        assert_eq!(entries[0]["action"], "create");
    }

    let refused = send(
        &api,
        TestRequest::get(format!("/v1/audit?entityType=spaceship&entityId={id}")).bearer(&admin),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let body = refused.json();
    assert_eq!(body["errors"][0]["field"], "entityType");
    let message = body["errors"][0]["message"].as_str().unwrap();
    for accepted in [
        "airplane",
        "airport",
        "flight",
        "booking",
        "user",
        "session",
        "notification",
    ] {
        assert!(message.contains(accepted), "{accepted} missing: {message}");
    }

    let stored = store
        .get(&Key::new(format!("AIRPLANE#{id}"), "AIRPLANE"))
        .await
        .unwrap()
        .expect("the airplane is stored");
    assert_eq!(stored["entity"], "airplane");
}

#[tokio::test]
async fn embedded_the_audit_filter_takes_entity_types_in_any_case_and_refuses_unknown_ones() {
    let data = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(data.path()).unwrap();
    the_audit_filter_takes_entity_types_in_any_case(Arc::new(store)).await;
}

#[tokio::test]
async fn dynamodb_the_audit_filter_takes_entity_types_in_any_case_and_refuses_unknown_ones() {
    the_audit_filter_takes_entity_types_in_any_case(fresh_dynamodb_store().await).await;
}
