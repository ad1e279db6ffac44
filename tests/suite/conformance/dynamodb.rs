//! The conformance suite against the DynamoDB adapter, on a DynamoDB-compatible server (moto in
//! CI and locally, started by `./infra/test.sh`), each test on a table of its own.
//!
//! The server is named by `ITINERA_TEST_DYNAMODB_ENDPOINT`. Without it the tests fail rather than
//! skip: a skipped adapter would look like a passing one. Each test gets its own client (a
//! client's connection pool is bound to the runtime it was first used on, and every test runs on
//! a runtime of its own), with the timeouts every DynamoDB test uses against moto: a table
//! creation that outlasts a short attempt timeout would be retried and then fail as existing.

crate::conformance::store_conformance_suite!(itinera_tests::fresh_dynamodb_store);
