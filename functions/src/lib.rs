//! Lambda glue.
