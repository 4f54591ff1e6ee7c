//! The conformance suite on PostgreSQL at `TIDINGS_TEST_DATABASE_URL`: one test per case, each
//! in a new schema. A server that cannot be reached fails these tests; they never skip.

use tidings_storetest::conformance;

conformance!(TestBackend::Postgres);
