//! The conformance suite of tidings' [`Store`], and the harness that opens a fresh store per
//! test.
//!
//! One set of cases ([`cases`]) runs against both backends: `tests/sqlite.rs` and
//! `tests/postgres.rs` each expand [`conformance!`] for their backend, which makes one
//! `#[tokio::test]` per case. A behaviour change adds a case here first; both backends must pass
//! it.
//!
//! Other crates' tests open stores the same way:
//!
//! ```no_run
//! # async fn engine_test() {
//! use tidings_storetest::{TestBackend, TestStore};
//!
//! let test = TestStore::open(TestBackend::Postgres).await;
//! let store = test.store.clone(); // an Arc<dyn Store> for the code under test
//! // … drive the code under test with a manual clock …
//! # drop(store);
//! test.close().await;
//! # }
//! ```
//!
//! A database per test: SQLite gets a new file in a temporary folder; PostgreSQL a new schema
//! `tidings_test_<random>` on the server at `TIDINGS_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped by [`TestStore::close`]. A PostgreSQL
//! that cannot be reached (after one attempt to start the local cluster) fails the test: it is
//! never skipped.

// Test support: a failed store call is a failed test, and `unwrap` says so as plainly as any
// message would.
#![allow(clippy::unwrap_used)]

pub mod cases;
pub mod fixtures;
mod postgres;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tidings_store::Store;
use tidings_store_sqlite::{SqliteOptions, SqliteStore};

pub use crate::postgres::{DATABASE_URL_VAR, DEFAULT_DATABASE_URL};

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A freshly migrated, empty store of its own for one test.
pub struct TestStore {
    /// What the code under test is given.
    pub store: Arc<dyn Store>,
    pub backend: TestBackend,
    owned: Owned,
}

/// What the store is and what closing it must clean up.
enum Owned {
    Sqlite {
        store: Arc<SqliteStore>,
        /// Deleted (with the database file) when dropped.
        dir: tempfile::TempDir,
    },
    Postgres(postgres::TestSchema),
}

impl TestStore {
    /// Opens and migrates a new, empty store. Panics with the reason when it cannot: a test
    /// that cannot get its database fails.
    pub async fn open(backend: TestBackend) -> TestStore {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("tidings-test-")
                    .tempdir()
                    .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
                let path = dir.path().join("tidings.db");
                let store = SqliteStore::open_and_migrate(&path, SqliteOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("cannot open SQLite at {}: {e}", path.display()));
                let store = Arc::new(store);
                TestStore {
                    store: store.clone(),
                    backend,
                    owned: Owned::Sqlite { store, dir },
                }
            }
            TestBackend::Postgres => {
                let schema = postgres::TestSchema::create().await;
                TestStore {
                    store: schema.store(),
                    backend,
                    owned: Owned::Postgres(schema),
                }
            }
        }
    }

    /// Another store on the same database, opened the way a second instance (or the same one
    /// after a restart) would: its own connections, the same data. Dropping it is enough;
    /// [`TestStore::close`] still removes the database.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        match &self.owned {
            Owned::Sqlite { store, .. } => {
                let path = store.path();
                let again = SqliteStore::open(path, SqliteOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("cannot reopen SQLite at {}: {e}", path.display()));
                Arc::new(again)
            }
            Owned::Postgres(schema) => schema.reopen().await,
        }
    }

    /// The SQLite database file, for tests that reopen it (`None` on PostgreSQL).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.owned {
            Owned::Sqlite { store, .. } => Some(store.path().to_owned()),
            Owned::Postgres(_) => None,
        }
    }

    /// The PostgreSQL schema the store lives in (`None` on SQLite).
    pub fn postgres_schema(&self) -> Option<&str> {
        match &self.owned {
            Owned::Sqlite { .. } => None,
            Owned::Postgres(schema) => Some(schema.name()),
        }
    }

    /// Closes the store and removes its database: the temporary file, or the schema.
    pub async fn close(self) {
        let TestStore { store, owned, .. } = self;
        drop(store);
        match owned {
            Owned::Sqlite { store, dir } => {
                store.close().await;
                drop(store);
                drop(dir);
            }
            Owned::Postgres(schema) => schema.drop_schema().await,
        }
    }
}

/// Runs one case on a fresh store of `backend`, then closes the store, also when the case
/// fails (the failure is then re-raised). What [`conformance!`] expands to for each case.
pub async fn run_case<F, Fut>(backend: TestBackend, case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let test = TestStore::open(backend).await;
    // Spawned so that a panicking case still lets us drop its database.
    let outcome = tokio::spawn(case(test.store.clone())).await;
    test.close().await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the case did not finish: {error}"),
        }
    }
}

/// Hands a case the store as it asks for it: `&dyn Store`, or `&Arc<dyn Store>` for the cases
/// that spawn tasks on it.
#[doc(hidden)]
pub trait CaseStore<T: ?Sized> {
    fn case_store(&self) -> &T;
}

impl CaseStore<dyn Store> for Arc<dyn Store> {
    fn case_store(&self) -> &dyn Store {
        &**self
    }
}

impl CaseStore<Arc<dyn Store>> for Arc<dyn Store> {
    fn case_store(&self) -> &Arc<dyn Store> {
        self
    }
}

/// Expands to one `#[tokio::test]` per conformance case for a backend, grouped in a module per
/// area (`schedules::schedule_create_then_get_by_id_and_by_name`, …):
///
/// ```text
/// tidings_storetest::conformance!(TestBackend::Sqlite);
/// ```
///
/// Adding a case: a `pub async fn` in `src/cases/<area>.rs` and its name in the list below.
#[macro_export]
macro_rules! conformance {
    (TestBackend::$backend:ident) => {
        $crate::conformance! { @areas $crate::TestBackend::$backend;
            schedules: [
                schedule_create_then_get_by_id_and_by_name,
                schedule_get_unknown_is_not_found,
                schedule_create_with_taken_name_is_conflict,
                schedule_update_replaces_spec_and_keeps_stats,
                schedule_delete_cancels_queued_runs_and_keeps_them_unlinked,
                schedule_list_filters,
                schedule_list_pages_without_duplicates_or_gaps,
                schedule_next_due_at_ignores_disabled,
            ],
            fire: [
                fire_on_time_occurrence_queues_one_run_and_advances,
                fire_twice_at_same_instant_creates_one_run,
                fire_key_is_unique_per_occurrence,
                fire_from_concurrent_tasks_creates_one_run_per_occurrence,
                fire_past_grace_records_one_missed_row,
                fire_without_coalesce_runs_each_due_occurrence_up_to_max_catch_up,
                fire_at_max_instances_records_skipped_naming_the_active_run,
                fire_once_trigger_fires_once_then_has_no_next,
                fire_never_fires_disabled_schedules,
                fire_takes_due_schedules_most_overdue_first_up_to_limit,
                fired_runs_are_claimable_at_their_occurrence,
            ],
            claim: [
                claim_takes_only_due_runs_oldest_first_up_to_limit,
                claim_never_hands_a_run_to_two_claimers,
                claim_filters_by_kind,
                claim_only_takes_the_named_run,
                claim_respects_max_instances_of_the_schedule,
                claim_max_instances_holds_across_concurrent_claimers,
                claim_records_an_attempt,
                heartbeat_renews_owned_leases_and_reports_lost_and_cancel_requested,
            ],
            complete: [
                complete_succeeded_records_summary_and_stats,
                complete_failed_with_retry_at_requeues_after_it,
                complete_failed_without_retry_fails_the_run,
                complete_timed_out_counts_as_failed,
                complete_cancelled_records_the_reason,
                complete_snoozed_does_not_count_the_attempt,
                complete_requeued_does_not_count_the_attempt,
                complete_from_wrong_instance_or_attempt_is_refused,
            ],
            rescue: [
                rescue_requeues_with_backoff_then_fails_when_attempts_run_out,
                rescue_fails_the_run_when_no_attempts_remain,
                rescue_cancels_when_cancel_was_requested,
                rescued_run_refuses_late_completion_by_its_old_owner,
                rescue_takes_only_expired_leases_up_to_limit,
            ],
            cancel: [
                cancel_queued_run_cancels_it_at_once,
                cancel_running_run_requests_cancellation,
                cancel_finished_run_is_invalid_state,
            ],
            enqueue: [
                enqueue_queues_a_run_and_counts_it_in_stats,
                enqueue_at_capacity_lists_the_active_runs,
                enqueue_batch_queues_adhoc_runs_in_order_or_none,
            ],
            lists: [
                run_list_filters,
                run_list_pages_without_duplicates_or_gaps,
                run_next_available_at_and_queue_depth_count_queued_runs,
                run_progress_is_stored_without_changing_state,
                run_get_unknown_is_not_found,
            ],
            migrate: [
                migrate_again_applies_nothing,
            ],
            webhooks: [
                webhook_queued_when_a_run_of_a_schedule_with_callback_ends,
                webhook_not_queued_without_callback_url,
                webhook_queued_for_each_run_ended_in_one_batch,
                webhook_not_queued_for_a_retried_failure,
                webhook_queued_when_rescue_fails_the_run,
                webhook_queued_when_a_queued_run_is_cancelled,
                webhook_not_queued_for_runs_cancelled_by_schedule_delete,
                webhook_run_does_not_change_the_schedule_stats,
                run_list_by_parent_finds_only_that_runs_deliveries,
            ],
            api_keys: [
                api_key_create_then_list_and_lookup_with_its_hash,
                api_key_create_with_active_name_is_conflict_until_revoked,
                api_key_revoke_by_name_or_prefix_stops_lookup,
                api_key_touch_sets_last_used_at,
                api_key_count_active_leaves_out_revoked_keys,
                ping_answers,
            ],
            instances: [
                instances_register_seen_list_remove_and_prune,
                run_prune_deletes_old_ended_runs_only,
            ],
            feedback: [
                feedback_replace_counts_inserted_updated_unchanged_and_deleted,
                feedback_replace_leaves_other_sources_alone,
                feedback_replace_that_fails_leaves_the_previous_set_whole,
                feedback_upsert_inserts_and_rewrites_but_never_deletes,
                feedback_get_returns_the_record_and_unknown_is_not_found,
                feedback_list_filters,
                feedback_list_text_search_is_case_insensitive,
                feedback_list_sorts_each_way_across_pages_with_ties_and_nulls,
                feedback_list_pages_hold_up_to_10000_records,
                feedback_replace_of_5000_records_in_one_transaction,
                source_state_watermark_only_moves_forward,
                source_file_record_round_trips_and_replaces,
            ],
            stats: [
                stats_scan_streams_the_window_and_counts_records_without_created_at,
                stats_snapshot_write_then_current_round_trips_and_replaces_the_previous,
                stats_snapshot_swap_is_atomic_under_concurrent_reads,
            ],
        }
    };
    (@areas $backend:expr; $($area:ident: [$($case:ident),* $(,)?]),* $(,)?) => {
        $(
            mod $area {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $case() {
                        $crate::run_case($backend, |store| async move {
                            $crate::cases::$area::$case($crate::CaseStore::case_store(&store))
                                .await;
                        })
                        .await;
                    }
                )*
            }
        )*
    };
}
