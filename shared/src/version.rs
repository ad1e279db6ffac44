//! Optimistic concurrency: entity versions and the preconditions clients state with `If-Match`.

/// What the caller requires of the current version before a change applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`: the change applies to whatever version is current.
    #[default]
    None,
    /// `If-Match: *`: the entity must exist, any version.
    AnyVersion,
    /// `If-Match` with entity tags: the current version must be one of these. Tags that name no
    /// version of ours are dropped, so a list of only foreign tags matches nothing.
    OneOf(Vec<u64>),
}

impl Precondition {
    /// Whether an entity at `version` satisfies the precondition.
    pub fn admits(&self, version: u64) -> bool {
        match self {
            Self::None | Self::AnyVersion => true,
            Self::OneOf(versions) => versions.contains(&version),
        }
    }

    /// Whether the caller named a version, so that a concurrent change must fail the request
    /// rather than be retried over.
    pub fn is_explicit(&self) -> bool {
        !matches!(self, Self::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_precondition_admits_every_version() {
        assert!(Precondition::None.admits(7));
        assert!(!Precondition::None.is_explicit());
    }

    #[test]
    fn listed_versions_admit_only_themselves() {
        let precondition = Precondition::OneOf(vec![2, 3]);
        assert!(precondition.admits(3));
        assert!(!precondition.admits(4));
        assert!(!Precondition::OneOf(Vec::new()).admits(1));
    }
}
