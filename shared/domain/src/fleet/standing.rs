//! Whether a car's papers let it back on the road: the rule a car leaving `maintenance` for
//! `available` is held to.
//!
//! A car's *current* paper of a kind is one valid today (UTC; its first day at most today, its
//! last day at least today). A car may go from `maintenance` to `available` only with a current
//! insurance policy and a current registration; otherwise the refusal names each kind that has
//! none: "expired on <day>" when the latest of that kind ended before today, "none valid today"
//! when there is none at all or it starts later.
//!
//! The papers are read before the car's versioned change and the change commits on the car's
//! version alone: a paper deleted or shortened in the instant between is not seen. Staff change
//! both, the window is one request long, and the next check sees it.

use super::kinds::{Insurance, Registration};
use super::manage::car_papers;
use super::paper::{Paper, PaperKind};
use crate::calendar::Day;
use crate::cars::CarId;
use crate::entity::Stored;
use crate::error::DomainError;
use crate::storage::{Store, query_all};

/// What a car lacks to be available on `today`: one phrase per kind without a current paper.
pub(crate) async fn missing_papers(
    store: &dyn Store,
    car: &CarId,
    today: Day,
) -> Result<Vec<String>, DomainError> {
    let insurance = lack::<Insurance>(&papers(store, car).await?, today);
    let registration = lack::<Registration>(&papers(store, car).await?, today);
    Ok(insurance.into_iter().chain(registration).collect())
}

/// Every paper of kind `K` of `car`: one Query, paged through.
async fn papers<K: PaperKind>(
    store: &dyn Store,
    car: &CarId,
) -> Result<Vec<Paper<K>>, DomainError> {
    query_all(store, car_papers::<K>(car))
        .await?
        .into_iter()
        .map(|item| Paper::from_item(item).map_err(DomainError::from))
        .collect()
}

/// Why `papers` leave the car without a current paper of kind `K` on `today`; `None` when one is
/// valid.
fn lack<K: PaperKind>(papers: &[Paper<K>], today: Day) -> Option<String> {
    if papers.iter().any(|paper| paper.valid_on(today)) {
        return None;
    }
    let latest = papers.iter().map(|paper| paper.valid_to).max();
    Some(match latest {
        Some(last) if last < today => format!("its {} expired on {last}", K::NAME),
        _ => format!("it has no {} valid today", K::NAME),
    })
}

/// The 409 for a car that lacks `missing` (one phrase per kind).
pub(crate) fn refusal(missing: &[String]) -> DomainError {
    DomainError::Conflict {
        detail: format!(
            "The car cannot leave maintenance for available: {}.",
            missing.join("; ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::paper::tests::{day, insurance};

    #[test]
    fn a_paper_valid_today_is_current_and_the_lack_names_the_kind() {
        let today = day("2026-11-30");
        let current = insurance("2026-01-01", "2026-11-30");
        assert_eq!(lack(&[current], today), None);
        let expired = [
            insurance("2025-01-01", "2025-12-31"),
            insurance("2026-01-01", "2026-11-29"),
        ];
        assert_eq!(
            lack(&expired, today).as_deref(),
            Some("its insurance expired on 2026-11-29")
        );
        let later = insurance("2026-12-01", "2027-11-30");
        assert_eq!(
            lack(&[later], today).as_deref(),
            Some("it has no insurance valid today")
        );
        assert_eq!(
            lack::<Insurance>(&[], today).as_deref(),
            Some("it has no insurance valid today")
        );
        assert!(matches!(
            refusal(&["a".into(), "b".into()]),
            DomainError::Conflict { detail } if detail.ends_with(": a; b.")
        ));
    }
}
