//! The conformance cases, a module per area. Each is `pub async fn case(store)` on a freshly
//! migrated, empty store, and asserts what a user would see. Cases that race several tasks take
//! the store as [`SharedStore`](crate::fixtures::SharedStore) so they can spawn.
//!
//! Adding a case: write the function here, then add its name to the list in
//! [`conformance!`](crate::conformance).

pub mod api_keys;
pub mod cancel;
pub mod claim;
pub mod complete;
pub mod enqueue;
pub mod feedback;
pub mod fire;
pub mod instances;
pub mod lists;
pub mod migrate;
pub mod rescue;
pub mod schedules;
pub mod stats;
pub mod webhooks;
