//! The conformance suite on SQLite: one test per case, each on a new database file.

use tidings_storetest::conformance;

conformance!(TestBackend::Sqlite);
