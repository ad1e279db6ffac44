//! Maps SDK errors onto the port's `StoreError` categories.
//!
//! Service errors are told apart by their error code rather than by each operation's error enum,
//! so every operation maps the same way; only transaction cancellations need the typed error, for
//! their per-operation reasons. The SDK error travels on as the `source` for the logs.

use std::error::Error;
use std::fmt::Debug;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::CancellationReason;
use itinera::storage::StoreError;

/// What a service error code means to callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Category {
    ConditionFailed,
    Conflict,
    Throttled,
    Invalid,
    Unavailable,
    Internal,
}

fn categorize(code: Option<&str>) -> Category {
    match code {
        Some("ConditionalCheckFailedException") => Category::ConditionFailed,
        // A single-item write that collided with a transaction in flight on the same item.
        Some("TransactionConflictException") => Category::Conflict,
        Some(
            "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "ThrottlingException",
        ) => Category::Throttled,
        Some("ValidationException") => Category::Invalid,
        // Server-side failures that survived the SDK's retries: the store is not answering
        // properly right now, which is what `Unavailable` tells callers.
        Some("InternalServerError" | "ServiceUnavailable") => Category::Unavailable,
        _ => Category::Internal,
    }
}

/// The port's error for a failed SDK call of any operation.
pub(crate) fn from_sdk<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            return StoreError::Unavailable(Box::new(error));
        }
        SdkError::ServiceError(_) => {}
        _ => return StoreError::Internal(Box::new(error)),
    }
    let category = categorize(error.code());
    let message = error
        .message()
        .or(error.code())
        .unwrap_or("rejected")
        .to_owned();
    with_category(category, message, error)
}

fn with_category<E>(category: Category, message: String, error: E) -> StoreError
where
    E: Error + Send + Sync + 'static,
{
    match category {
        Category::ConditionFailed => StoreError::ConditionFailed,
        Category::Conflict => StoreError::TransactionConflict,
        Category::Throttled => StoreError::Throttled(Box::new(error)),
        Category::Invalid => StoreError::Invalid(message),
        Category::Unavailable => StoreError::Unavailable(Box::new(error)),
        Category::Internal => StoreError::Internal(Box::new(error)),
    }
}

/// The port's error for a failed `TransactWriteItems`: a cancellation is explained by its reasons,
/// anything else maps like every other operation.
pub(crate) fn from_transaction<R>(error: SdkError<TransactWriteItemsError, R>) -> StoreError
where
    R: Debug + Send + Sync + 'static,
{
    let cancellation = match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            Some(from_reasons(cancelled.cancellation_reasons()))
        }
        _ => None,
    };
    match cancellation {
        Some(Cancellation::ConditionFailed { index }) => {
            StoreError::TransactionConditionFailed { index }
        }
        Some(Cancellation::Other(category, message)) => with_category(category, message, error),
        None => from_sdk(error),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Cancellation {
    ConditionFailed { index: usize },
    Other(Category, String),
}

/// A failed condition names its operation and wins over everything else (it is the answer callers
/// act on); then a conflict (retrying may succeed), throttling, a validation error.
fn from_reasons(reasons: &[CancellationReason]) -> Cancellation {
    fn code(reason: &CancellationReason) -> &str {
        reason.code().unwrap_or("None")
    }
    if let Some(index) = reasons
        .iter()
        .position(|reason| code(reason) == "ConditionalCheckFailed")
    {
        return Cancellation::ConditionFailed { index };
    }
    let find = |codes: &[&str]| reasons.iter().find(|reason| codes.contains(&code(reason)));
    if find(&["TransactionConflict"]).is_some() {
        return Cancellation::Other(Category::Conflict, String::new());
    }
    if find(&[
        "ProvisionedThroughputExceeded",
        "ThrottlingError",
        "RequestLimitExceeded",
    ])
    .is_some()
    {
        return Cancellation::Other(Category::Throttled, String::new());
    }
    if let Some(reason) = find(&["ValidationError"]) {
        let message = reason
            .message()
            .unwrap_or("an operation of the transaction is invalid");
        return Cancellation::Other(Category::Invalid, message.to_owned());
    }
    let codes: Vec<&str> = reasons.iter().map(code).collect();
    Cancellation::Other(
        Category::Internal,
        format!("transaction cancelled for reasons [{}]", codes.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, ProvisionedThroughputExceededException,
        TransactionCanceledException,
    };

    use super::*;

    fn unmodeled(code: &str, message: &str) -> SdkError<PutItemError, ()> {
        let error =
            PutItemError::generic(ErrorMetadata::builder().code(code).message(message).build());
        SdkError::service_error(error, ())
    }

    fn reason(code: &str) -> CancellationReason {
        CancellationReason::builder()
            .code(code)
            .message(format!("{code} happened"))
            .build()
    }

    fn cancelled(codes: &[&str]) -> SdkError<TransactWriteItemsError, ()> {
        let mut exception =
            TransactionCanceledException::builder().message("Transaction cancelled");
        for code in codes {
            exception = exception.cancellation_reasons(reason(code));
        }
        let error = TransactWriteItemsError::TransactionCanceledException(exception.build());
        SdkError::service_error(error, ())
    }

    #[test]
    fn a_failed_condition_is_condition_failed() {
        let error = PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .message("The conditional request failed")
                .meta(
                    ErrorMetadata::builder()
                        .code("ConditionalCheckFailedException")
                        .build(),
                )
                .build(),
        );
        assert!(matches!(
            from_sdk(SdkError::service_error(error, ())),
            StoreError::ConditionFailed
        ));
    }

    #[test]
    fn throttling_codes_are_throttled_with_the_sdk_error_as_source() {
        for code in [
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "ThrottlingException",
        ] {
            match from_sdk(unmodeled(code, "slow down")) {
                StoreError::Throttled(source) => {
                    let source = source
                        .downcast_ref::<SdkError<PutItemError, ()>>()
                        .expect("the SDK error is the source");
                    assert_eq!(source.code(), Some(code));
                }
                other => panic!("{code} mapped to {other:?}"),
            }
        }
        let modeled = PutItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .meta(
                    ErrorMetadata::builder()
                        .code("ProvisionedThroughputExceededException")
                        .build(),
                )
                .build(),
        );
        assert!(matches!(
            from_sdk(SdkError::service_error(modeled, ())),
            StoreError::Throttled(_)
        ));
    }

    #[test]
    fn validation_is_invalid_with_the_message() {
        match from_sdk(unmodeled(
            "ValidationException",
            "Item size has exceeded the maximum",
        )) {
            StoreError::Invalid(message) => {
                assert_eq!(message, "Item size has exceeded the maximum")
            }
            other => panic!("mapped to {other:?}"),
        }
    }

    #[test]
    fn timeouts_and_dispatch_failures_are_unavailable() {
        let timeout: SdkError<PutItemError, ()> = SdkError::timeout_error("attempt timed out");
        assert!(matches!(from_sdk(timeout), StoreError::Unavailable(_)));
        let dispatch: SdkError<PutItemError, ()> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert!(matches!(from_sdk(dispatch), StoreError::Unavailable(_)));
        assert!(matches!(
            from_sdk(unmodeled("InternalServerError", "oops")),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn missing_tables_and_unknown_codes_are_internal() {
        for code in [
            "ResourceNotFoundException",
            "AccessDeniedException",
            "SomethingNew",
        ] {
            assert!(matches!(
                from_sdk(unmodeled(code, "no")),
                StoreError::Internal(_)
            ));
        }
        let construction: SdkError<PutItemError, ()> = SdkError::construction_failure("no region");
        assert!(matches!(from_sdk(construction), StoreError::Internal(_)));
    }

    #[test]
    fn a_transaction_names_its_first_failed_condition() {
        let error = cancelled(&[
            "None",
            "TransactionConflict",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
        ]);
        assert!(matches!(
            from_transaction(error),
            StoreError::TransactionConditionFailed { index: 2 }
        ));
        assert!(matches!(
            from_transaction(cancelled(&["ConditionalCheckFailed"])),
            StoreError::TransactionConditionFailed { index: 0 }
        ));
    }

    #[test]
    fn other_cancellations_map_by_reason() {
        assert!(matches!(
            from_transaction(cancelled(&["None", "TransactionConflict"])),
            StoreError::TransactionConflict
        ));
        assert!(matches!(
            from_transaction(cancelled(&["ThrottlingError", "None"])),
            StoreError::Throttled(_)
        ));
        match from_transaction(cancelled(&["None", "ValidationError"])) {
            StoreError::Invalid(message) => assert_eq!(message, "ValidationError happened"),
            other => panic!("mapped to {other:?}"),
        }
        match from_transaction(cancelled(&["None", "ItemCollectionSizeLimitExceeded"])) {
            StoreError::Internal(source) => assert!(
                source
                    .downcast_ref::<SdkError<TransactWriteItemsError, ()>>()
                    .is_some()
            ),
            other => panic!("mapped to {other:?}"),
        }
    }

    #[test]
    fn other_transaction_errors_map_like_any_operation() {
        let error = TransactWriteItemsError::generic(
            ErrorMetadata::builder()
                .code("ValidationException")
                .message("duplicate item")
                .build(),
        );
        match from_transaction(SdkError::service_error(error, ())) {
            StoreError::Invalid(message) => assert_eq!(message, "duplicate item"),
            other => panic!("mapped to {other:?}"),
        }
    }
}
