//! The store contract: every behaviour a store promises, written once as a
//! scenario and run against every backend. Test names read
//! `contract::<backend>::<scenario>`, so `cargo test -- contract` runs the
//! suite and `cargo test -- sqlite` one backend.

mod children;
mod scenarios;

/// The contract: every scenario on every backend. A backend that is added
/// gets all of it.
mod contract {
    use super::scenarios;

    uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] scenarios: [
        round_trip_of_every_field_type,
        values_a_column_cannot_hold_are_rejected_on_commit,
        dropping_a_unit_of_work_stores_nothing,
        an_early_error_return_stores_nothing,
        a_panic_inside_a_unit_of_work_stores_nothing,
        uncommitted_work_is_invisible_to_other_units_of_work,
        mutating_a_loaded_copy_changes_nothing_stored,
        loading_an_id_twice_returns_the_same_object_and_reads_once,
        only_changed_aggregates_get_a_new_version,
        of_two_concurrent_updates_exactly_one_commits,
        deleting_with_a_stale_version_is_a_conflict,
        adding_an_existing_id_is_a_duplicate,
        adding_a_taken_unique_value_is_a_duplicate,
        a_commit_is_atomic_across_repositories,
        finders_and_unique_getters_match_exact_values,
        list_returns_the_lowest_ids_up_to_the_limit,
        removing_deletes_and_removing_a_missing_id_is_not_found,
        strings_shaped_like_sql_injection_round_trip_unchanged,
        changing_a_loaded_id_is_rejected,
        commit_returns_the_events_recorded_in_order,
        retry_reruns_a_unit_of_work_that_lost_a_race,
    ]);
}

/// The child-entity contract (names read `contract_child::<backend>::…`):
/// the same scenarios on every backend.
mod contract_child {
    use super::children;

    uow_tests::on_backends!([in_memory, sqlite, postgres, mysql] children: [
        child_tables_round_trip_three_levels_in_the_order_written,
        changing_only_a_child_moves_the_owner_version,
        a_new_child_with_an_application_assigned_uuid_is_inserted_not_updated,
        a_new_child_with_a_composite_key_is_inserted_not_updated,
        two_units_changing_different_children_of_one_root_child_conflict,
        children_are_diffed_by_id_added_changed_removed_and_reordered,
        a_child_moves_between_roots_in_one_unit,
        a_grandchild_moves_to_a_new_child_of_its_root,
        removing_a_root_removes_its_children,
        two_children_with_one_id_are_a_duplicate_child_error,
        a_taken_unique_child_value_is_a_duplicate,
        roots_are_found_by_a_child_or_grandchild_column,
        roots_found_by_a_query_are_diffed_by_child_like_loaded_ones,
    ]);
}
