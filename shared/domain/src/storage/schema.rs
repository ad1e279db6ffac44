//! The single table's schema, declared once.
//!
//! Tests and the local stack create tables from this declaration, a test checks that
//! `template.yaml` declares the same table, and `docs/data-model.md` explains which entity and
//! access pattern uses which key and index.

/// What a function may do to the table: the route table and the background table name it per
/// function, and the template grants exactly this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreAccess {
    None,
    /// `GetItem` and `Query`.
    Read,
    /// Reads plus `PutItem`, `UpdateItem`, `DeleteItem` and `ConditionCheckItem`.
    ReadWrite,
}

/// The key attributes of the table and of its global secondary indexes (all strings, all indexes
/// project every attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableSchema {
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    pub indexes: &'static [IndexSchema],
    /// The attribute holding an item's expiry as epoch seconds.
    pub ttl_attribute: &'static str,
}

/// One global secondary index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexSchema {
    pub index: Index,
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
}

/// The global secondary indexes. They are overloaded: each entity type decides what its items
/// write into an index's key attributes (see `docs/data-model.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    pub const ALL: [Index; 3] = [Index::Gsi1, Index::Gsi2, Index::Gsi3];

    pub fn schema(self) -> &'static IndexSchema {
        match self {
            Index::Gsi1 => &TABLE.indexes[0],
            Index::Gsi2 => &TABLE.indexes[1],
            Index::Gsi3 => &TABLE.indexes[2],
        }
    }

    pub fn name(self) -> &'static str {
        self.schema().name
    }

    pub fn partition_key(self) -> &'static str {
        self.schema().partition_key
    }

    pub fn sort_key(self) -> &'static str {
        self.schema().sort_key
    }
}

/// The table every entity lives in.
pub const TABLE: TableSchema = TableSchema {
    partition_key: "pk",
    sort_key: "sk",
    indexes: &[
        IndexSchema {
            index: Index::Gsi1,
            name: "gsi1",
            partition_key: "gsi1pk",
            sort_key: "gsi1sk",
        },
        IndexSchema {
            index: Index::Gsi2,
            name: "gsi2",
            partition_key: "gsi2pk",
            sort_key: "gsi2sk",
        },
        IndexSchema {
            index: Index::Gsi3,
            name: "gsi3",
            partition_key: "gsi3pk",
            sort_key: "gsi3sk",
        },
    ],
    ttl_attribute: "expiresAt",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_points_back_at_its_own_schema_entry() {
        for index in Index::ALL {
            assert_eq!(index.schema().index, index);
        }
        assert_eq!(Index::ALL.len(), TABLE.indexes.len());
    }

    #[test]
    fn key_attribute_names_are_distinct() {
        let mut names = vec![TABLE.partition_key, TABLE.sort_key, TABLE.ttl_attribute];
        for index in TABLE.indexes {
            names.push(index.partition_key);
            names.push(index.sort_key);
        }
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
