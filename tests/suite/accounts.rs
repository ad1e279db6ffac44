//! Account use cases on the embedded store: uniqueness under concurrent registration, sign-in
//! without account enumeration, passwords, roles, and the audit entries every change writes.

use std::sync::{Arc, Mutex};

use itinera::accounts::{
    AdminChanges, Argon2id, Email, LoginName, NewAccount, Password, PasswordHasher, PersonName,
    Phone, ProfileChanges, User, Username, admin_update_user, authenticate, bootstrap_admin,
    change_password, get_user, list_users, register, update_profile,
};
use itinera::audit;
use itinera::clock::{IdGenerator, SystemClock, UuidV7Ids};
use itinera::entity::EntityKind;
use itinera::error::DomainError;
use itinera::identity::{Principal, RequestContext, Role};
use itinera::pagination::PageLimit;
use itinera::storage::{Item, Key, Query, Store};
use itinera::version::Precondition;
use itinera_embedded::EmbeddedStore;
use serde_json::{Value, json};
use tempfile::TempDir;

const PASSWORD: &str = "ochre lantern drifts past quays";

/// One test's store and ports; the store's directory is removed when dropped.
struct Accounts {
    store: Arc<dyn Store>,
    hasher: Arc<dyn PasswordHasher>,
    ids: Arc<RecordingIds>,
    _data: TempDir,
}

/// UUIDv7 ids that remembers every id it handed out, to look for traces of a failed write.
#[derive(Default)]
struct RecordingIds(Mutex<Vec<uuid::Uuid>>);

impl IdGenerator for RecordingIds {
    fn new_id(&self) -> uuid::Uuid {
        let id = UuidV7Ids.new_id();
        self.0.lock().unwrap().push(id);
        id
    }
}

fn accounts() -> Accounts {
    let data = tempfile::tempdir().expect("temporary directory");
    Accounts {
        store: Arc::new(EmbeddedStore::open(data.path()).expect("embedded store opens")),
        hasher: Arc::new(Argon2id::owasp_minimum()),
        ids: Arc::default(),
        _data: data,
    }
}

fn anonymous() -> RequestContext {
    RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        principal: None,
    }
}

fn signed_in(user: &User) -> RequestContext {
    RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        principal: Some(Principal {
            user_id: user.id.clone(),
            role: user.role,
        }),
    }
}

fn new_account(email: &str, username: &str) -> NewAccount {
    NewAccount {
        email: Email::parse(email).unwrap(),
        username: Username::parse(username).unwrap(),
        password: Password::parse(PASSWORD).unwrap(),
        name: PersonName::parse("Ann Lee").unwrap(),
    }
}

fn login(name: &str) -> LoginName {
    LoginName::parse(name).unwrap()
}

impl Accounts {
    async fn register(&self, email: &str, username: &str) -> Result<User, DomainError> {
        register(
            &*self.store,
            &SystemClock,
            &*self.ids,
            &self.hasher,
            &anonymous(),
            new_account(email, username),
        )
        .await
    }

    async fn authenticate(&self, name: &str, password: &str) -> Result<User, DomainError> {
        authenticate(&*self.store, &self.hasher, &login(name), None, password).await
    }

    async fn admin_update(
        &self,
        admin: &User,
        user: &User,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> Result<User, DomainError> {
        admin_update_user(
            &*self.store,
            &SystemClock,
            &*self.ids,
            &signed_in(admin),
            &user.id,
            &AdminChanges::new(role, disabled).unwrap(),
            &Precondition::None,
        )
        .await
    }

    async fn bootstrap(&self, email: &str) -> Result<Option<User>, DomainError> {
        bootstrap_admin(
            &*self.store,
            &SystemClock,
            &*self.ids,
            &self.hasher,
            Email::parse(email).unwrap(),
            Password::parse(PASSWORD).unwrap(),
        )
        .await
    }

    /// The audit entries recorded for one user, oldest first.
    async fn audit_entries(&self, user: &User) -> Vec<Item> {
        let partition = audit::entity_partition(EntityKind::User, user.id.as_str());
        self.store
            .query(Query::partition(None, partition))
            .await
            .unwrap()
            .items
    }

    /// Every user of one role (or all), following pages of `page_size`.
    async fn all_users(&self, role: Option<Role>, page_size: i64) -> Vec<User> {
        let limit = PageLimit::try_from(page_size).unwrap();
        let (mut users, mut next) = (Vec::new(), None);
        loop {
            let page = list_users(&*self.store, role, limit, next).await.unwrap();
            assert!(page.users.len() <= page_size as usize);
            users.extend(page.users);
            match page.next {
                Some(key) => next = Some(key),
                None => return users,
            }
        }
    }
}

fn assert_conflict(result: Result<User, DomainError>, detail: &str) {
    match result {
        Err(DomainError::Conflict { detail: actual }) => assert_eq!(actual, detail),
        other => panic!("expected a conflict ({detail}), got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_registrations_with_one_email_let_exactly_one_succeed() {
    let accounts = Arc::new(accounts());
    let attempts: Vec<_> = (0..20)
        .map(|n| {
            let accounts = Arc::clone(&accounts);
            tokio::spawn(async move {
                accounts
                    .register(
                        &format!("Same@Example.com{}", " ".repeat(n % 2)),
                        &format!("user{n}"),
                    )
                    .await
            })
        })
        .collect();
    let mut succeeded = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(user) => succeeded.push(user),
            result => assert_conflict(result, "email is already registered"),
        }
    }
    assert_eq!(succeeded.len(), 1);
    let stored = accounts.all_users(None, 100).await;
    assert_eq!(stored, succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_registrations_with_one_username_let_exactly_one_succeed() {
    let accounts = Arc::new(accounts());
    let attempts: Vec<_> = (0..20)
        .map(|n| {
            let accounts = Arc::clone(&accounts);
            let username = if n % 2 == 0 { "Traveller" } else { "traveller" };
            tokio::spawn(async move {
                accounts
                    .register(&format!("user{n}@example.com"), username)
                    .await
            })
        })
        .collect();
    let mut succeeded = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => succeeded += 1,
            result => assert_conflict(result, "username is taken"),
        }
    }
    assert_eq!(succeeded, 1);
    assert_eq!(accounts.all_users(None, 100).await.len(), 1);
}

#[tokio::test]
async fn registration_creates_a_customer_and_an_audit_entry_by_them_without_the_hash() {
    let accounts = accounts();
    let user = accounts.register("Ann@Example.com", "Ann").await.unwrap();
    assert_eq!(user.email.as_str(), "ann@example.com");
    assert_eq!(user.username.as_str(), "ann");
    assert_eq!(
        (user.role, user.disabled, user.version),
        (Role::Customer, false, 1)
    );
    assert_eq!(get_user(&*accounts.store, &user.id).await.unwrap(), user);

    let entries = accounts.audit_entries(&user).await;
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry["action"], "create");
    assert_eq!(entry["actor"], format!("user:{}", user.id));
    assert_eq!(entry["after"]["email"], "ann@example.com");
    assert_eq!(entry["after"]["role"], "customer");
    let text = Value::Object(entry.clone()).to_string();
    assert!(
        !text.contains("argon2") && !text.contains("passwordHash"),
        "{text}"
    );
}

#[tokio::test]
async fn the_user_json_has_no_password_hash_and_no_version() {
    let accounts = accounts();
    let user = accounts.register("ann@example.com", "ann").await.unwrap();
    let json = serde_json::to_value(&user).unwrap();
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "createdAt",
            "disabled",
            "email",
            "id",
            "name",
            "phone",
            "role",
            "updatedAt",
            "username"
        ]
    );
    assert_eq!(json["phone"], Value::Null);
}

#[tokio::test]
async fn a_failed_registration_leaves_no_user_no_reservation_and_no_audit_entry() {
    let accounts = accounts();
    accounts.register("ann@example.com", "ann").await.unwrap();
    let handed_out_before = accounts.ids.0.lock().unwrap().len();

    let duplicate = accounts.register("ANN@example.com", "someone.else").await;
    assert_conflict(duplicate, "email is already registered");

    let store = &*accounts.store;
    let reservation = Key::new("USERNAME#someone.else", "USERNAME");
    assert_eq!(store.get(&reservation).await.unwrap(), None);
    let attempted: Vec<uuid::Uuid> = accounts.ids.0.lock().unwrap()[handed_out_before..].to_vec();
    assert!(!attempted.is_empty(), "the attempt drew ids");
    for id in attempted {
        let user_key = Key::new(format!("USER#{id}"), "USER");
        assert_eq!(store.get(&user_key).await.unwrap(), None);
        let audit = Query::partition(
            None,
            audit::entity_partition(EntityKind::User, &id.to_string()),
        );
        assert!(store.query(audit).await.unwrap().items.is_empty());
    }
    assert_eq!(accounts.all_users(None, 100).await.len(), 1);
}

#[tokio::test]
async fn registration_refuses_a_password_equal_to_the_username_or_the_email() {
    let accounts = accounts();
    for (email, username, password) in [
        ("ann@example.com", "ann.lee.travels", "Ann.Lee.Travels"),
        ("ann.lee@example.com", "ann", "ANN.LEE@example.com"),
    ] {
        let mut account = new_account(email, username);
        account.password = Password::parse(password).unwrap();
        let result = register(
            &*accounts.store,
            &SystemClock,
            &*accounts.ids,
            &accounts.hasher,
            &anonymous(),
            account,
        )
        .await;
        assert!(
            matches!(
                result,
                Err(DomainError::Invalid {
                    field: "password",
                    ..
                })
            ),
            "{result:?}"
        );
    }
    assert!(accounts.all_users(None, 100).await.is_empty());
}

#[tokio::test]
async fn users_sign_in_with_email_or_username_in_any_case() {
    let accounts = accounts();
    let user = accounts
        .register("ann@example.com", "ann.lee")
        .await
        .unwrap();
    for name in ["ann@example.com", " ANN@Example.COM ", "ann.lee", "Ann.Lee"] {
        let signed_in = accounts.authenticate(name, PASSWORD).await.unwrap();
        assert_eq!(signed_in.id, user.id, "{name}");
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_login_fail_alike() {
    let accounts = accounts();
    accounts.register("ann@example.com", "ann").await.unwrap();
    let wrong_password = accounts.authenticate("ann", "ochre lantern drifts").await;
    let unknown_user = accounts.authenticate("bob", PASSWORD).await;
    let unknown_email = accounts.authenticate("bob@example.com", PASSWORD).await;
    for result in [&wrong_password, &unknown_user, &unknown_email] {
        assert!(
            matches!(result, Err(DomainError::Unauthenticated)),
            "{result:?}"
        );
    }
    let messages: Vec<String> = [wrong_password, unknown_user, unknown_email]
        .into_iter()
        .map(|result| result.unwrap_err().to_string())
        .collect();
    assert!(messages.iter().all(|message| message == &messages[0]));
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_until_enabled_again() {
    let accounts = accounts();
    let admin = accounts
        .bootstrap("root@example.com")
        .await
        .unwrap()
        .unwrap();
    let user = accounts.register("ann@example.com", "ann").await.unwrap();

    let disabled = accounts
        .admin_update(&admin, &user, None, Some(true))
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert_eq!(disabled.version, 2);
    assert!(matches!(
        accounts.authenticate("ann", PASSWORD).await,
        Err(DomainError::Unauthenticated)
    ));

    accounts
        .admin_update(&admin, &user, None, Some(false))
        .await
        .unwrap();
    assert_eq!(
        accounts.authenticate("ann", PASSWORD).await.unwrap().id,
        user.id
    );
}

#[tokio::test]
async fn changing_the_password_requires_the_current_one_and_replaces_it() {
    let accounts = accounts();
    let user = accounts.register("ann@example.com", "ann").await.unwrap();
    let new = Password::parse("violet harbour keeps nine bells").unwrap();
    let change = |current: &'static str| {
        let (accounts, user, new) = (&accounts, &user, &new);
        async move {
            change_password(
                &*accounts.store,
                &SystemClock,
                &*accounts.ids,
                &accounts.hasher,
                &signed_in(user),
                &user.id,
                current,
                new,
            )
            .await
        }
    };

    assert!(matches!(
        change("not my password").await,
        Err(DomainError::Unauthenticated)
    ));
    assert_eq!(
        accounts
            .authenticate("ann", PASSWORD)
            .await
            .unwrap()
            .version,
        1
    );

    change(PASSWORD).await.unwrap();
    assert!(matches!(
        accounts.authenticate("ann", PASSWORD).await,
        Err(DomainError::Unauthenticated)
    ));
    let after = accounts
        .authenticate("ann", "violet harbour keeps nine bells")
        .await
        .unwrap();
    assert_eq!(after.version, 2);

    let entries = accounts.audit_entries(&user).await;
    let last = entries.last().unwrap();
    assert_eq!(last["action"], "update");
    assert_eq!(last["before"], json!({}));
    assert_eq!(last["after"], json!({"passwordChanged": true}));
}

#[tokio::test]
async fn a_new_password_equal_to_the_username_is_refused() {
    let accounts = accounts();
    let user = accounts
        .register("ann@example.com", "ann.lee.travels")
        .await
        .unwrap();
    let result = change_password(
        &*accounts.store,
        &SystemClock,
        &*accounts.ids,
        &accounts.hasher,
        &signed_in(&user),
        &user.id,
        PASSWORD,
        &Password::parse("ANN.LEE.TRAVELS").unwrap(),
    )
    .await;
    assert!(matches!(
        result,
        Err(DomainError::Invalid {
            field: "password",
            ..
        })
    ));
    accounts
        .authenticate("ann.lee.travels", PASSWORD)
        .await
        .unwrap();
}

#[tokio::test]
async fn listing_by_role_pages_newest_first_without_duplicates() {
    let accounts = accounts();
    let admin = accounts
        .bootstrap("root@example.com")
        .await
        .unwrap()
        .unwrap();
    let mut customers = Vec::new();
    for n in 0..7 {
        customers.push(
            accounts
                .register(&format!("user{n}@example.com"), &format!("user{n}"))
                .await
                .unwrap(),
        );
    }
    for promoted in [&customers[1], &customers[4]] {
        accounts
            .admin_update(&admin, promoted, Some(Role::Staff), None)
            .await
            .unwrap();
    }

    let listed_customers = accounts.all_users(Some(Role::Customer), 2).await;
    let expected: Vec<_> = [6, 5, 3, 2, 0]
        .iter()
        .map(|&n| customers[n].id.clone())
        .collect();
    let listed: Vec<_> = listed_customers
        .iter()
        .map(|user| user.id.clone())
        .collect();
    assert_eq!(listed, expected);

    let staff = accounts.all_users(Some(Role::Staff), 1).await;
    let staff_ids: Vec<_> = staff.iter().map(|user| user.id.clone()).collect();
    assert_eq!(
        staff_ids,
        [customers[4].id.clone(), customers[1].id.clone()]
    );
    assert!(staff.iter().all(|user| user.role == Role::Staff));

    let everyone = accounts.all_users(None, 3).await;
    assert_eq!(everyone.len(), 8);
    assert_eq!(everyone.last().unwrap().id, admin.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bootstrap_creates_exactly_one_admin_even_when_started_concurrently() {
    let accounts = Arc::new(accounts());
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let accounts = Arc::clone(&accounts);
            tokio::spawn(async move { accounts.bootstrap("root@example.com").await })
        })
        .collect();
    let mut created = Vec::new();
    for start in starts {
        if let Some(admin) = start.await.unwrap().unwrap() {
            created.push(admin);
        }
    }
    assert_eq!(created.len(), 1);
    let admins = accounts.all_users(Some(Role::Admin), 100).await;
    assert_eq!(admins, created);

    assert_eq!(accounts.bootstrap("root@example.com").await.unwrap(), None);
    assert_eq!(accounts.bootstrap("other@example.com").await.unwrap(), None);
    assert_eq!(accounts.all_users(None, 100).await.len(), 1);

    let entries = accounts.audit_entries(&created[0]).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor"], "system");
    let signed_in = accounts
        .authenticate("root@example.com", PASSWORD)
        .await
        .unwrap();
    assert_eq!(signed_in.role, Role::Admin);
}

#[tokio::test]
async fn bootstrap_refuses_an_email_that_belongs_to_a_customer() {
    let accounts = accounts();
    accounts.register("root@example.com", "root").await.unwrap();
    let result = accounts.bootstrap("root@example.com").await;
    assert!(
        matches!(result, Err(DomainError::Conflict { .. })),
        "{result:?}"
    );
    assert!(accounts.all_users(Some(Role::Admin), 100).await.is_empty());
}

#[tokio::test]
async fn an_admin_cannot_demote_or_disable_themselves() {
    let accounts = accounts();
    let admin = accounts
        .bootstrap("root@example.com")
        .await
        .unwrap()
        .unwrap();
    let demote = accounts
        .admin_update(&admin, &admin, Some(Role::Staff), None)
        .await;
    assert!(
        matches!(&demote, Err(DomainError::Conflict { detail }) if detail.contains("own role")),
        "{demote:?}"
    );
    let disable = accounts
        .admin_update(&admin, &admin, None, Some(true))
        .await;
    assert!(
        matches!(&disable, Err(DomainError::Conflict { detail }) if detail.contains("disable")),
        "{disable:?}"
    );
    let unchanged = get_user(&*accounts.store, &admin.id).await.unwrap();
    assert_eq!(
        (unchanged.role, unchanged.disabled, unchanged.version),
        (Role::Admin, false, 1)
    );
}

#[tokio::test]
async fn a_role_change_is_audited_with_the_admin_as_actor() {
    let accounts = accounts();
    let admin = accounts
        .bootstrap("root@example.com")
        .await
        .unwrap()
        .unwrap();
    let user = accounts.register("ann@example.com", "ann").await.unwrap();
    let promoted = accounts
        .admin_update(&admin, &user, Some(Role::Staff), None)
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Staff);
    let entries = accounts.audit_entries(&user).await;
    let last = entries.last().unwrap();
    assert_eq!(last["actor"], format!("user:{}", admin.id));
    assert_eq!(last["before"]["role"], "customer");
    assert_eq!(last["after"]["role"], "staff");
    assert!(last["after"].get("email").is_none(), "only changed fields");
}

#[tokio::test]
async fn a_profile_update_is_versioned_and_audited() {
    let accounts = accounts();
    let user = accounts.register("ann@example.com", "ann").await.unwrap();
    let store = &*accounts.store;
    let update = |changes: ProfileChanges, precondition: Precondition| {
        let (accounts, user) = (&accounts, &user);
        async move {
            update_profile(
                store,
                &SystemClock,
                &*accounts.ids,
                &signed_in(user),
                &user.id,
                &changes,
                &precondition,
            )
            .await
        }
    };

    let phone = Phone::parse("+44 20 7946 0958").unwrap();
    let changes = ProfileChanges::new(
        Some(PersonName::parse("Ann Lee-Smith").unwrap()),
        Some(Some(phone)),
    );
    let changed = update(changes.unwrap(), Precondition::OneOf(vec![1]))
        .await
        .unwrap();
    assert_eq!(changed.name.as_str(), "Ann Lee-Smith");
    assert_eq!(changed.phone.as_ref().unwrap().as_str(), "+442079460958");
    assert_eq!(changed.version, 2);
    assert_eq!(get_user(store, &user.id).await.unwrap(), changed);

    let stale = update(
        ProfileChanges::new(None, Some(None)).unwrap(),
        Precondition::OneOf(vec![1]),
    )
    .await;
    assert!(
        matches!(stale, Err(DomainError::PreconditionFailed { .. })),
        "{stale:?}"
    );

    let cleared = update(
        ProfileChanges::new(None, Some(None)).unwrap(),
        Precondition::None,
    )
    .await
    .unwrap();
    assert_eq!(cleared.phone, None);
    assert_eq!(get_user(store, &user.id).await.unwrap().phone, None);

    let entries = accounts.audit_entries(&user).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1]["before"]["name"], "Ann Lee");
    assert_eq!(entries[1]["after"]["name"], "Ann Lee-Smith");
    assert_eq!(entries[2]["after"]["phone"], Value::Null);
    assert_eq!(entries[2]["before"]["phone"], "+442079460958");
}
