//! The Driftwarden desktop shell.
//!
//! This crate only wires things: it holds the unlocked registry for the window and exposes each core
//! operation as a Tauri command (see `commands.rs`). Every rule lives in `driftwarden-core`.

mod commands;
mod evidence;
mod state;
mod webview;

pub use commands::{
    AddMemberRequest, ChangePassphraseRequest, CreateRegistryRequest, CreateSampleRequest,
    OpenRegistryRequest,
};

/// Starts the desktop app.
pub fn run() {
    // Before any thread starts: the web processes WebKit spawns inherit this environment.
    webview::before_start();
    tauri::Builder::default()
        // Remembers the window's size and position between runs.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        // The file dialog of the measurement import (used from Rust only; no JS permission).
        .plugin(tauri_plugin_dialog::init())
        // Desktop notifications when a decision falls due (sent from Rust only; no JS permission).
        .plugin(tauri_plugin_notification::init())
        .manage(state::AppState::default())
        // Keeps the webview's memory down (see webview.rs).
        .setup(webview::setup)
        .invoke_handler(tauri::generate_handler![
            commands::default_registry_dir,
            commands::registry_create,
            commands::registry_open,
            commands::registry_lock,
            commands::session,
            commands::list_models,
            commands::list_models_page,
            commands::list_members,
            commands::show_model,
            commands::add_model,
            commands::set_decision_rights,
            commands::set_threshold,
            commands::approval_gate,
            commands::approve_model,
            commands::ingest_file,
            commands::choose_measurement_file,
            commands::list_measurements,
            commands::drift_series,
            commands::list_exceptions,
            commands::list_exceptions_page,
            commands::show_exception,
            commands::start_validation,
            commands::validate_exception,
            commands::flag_exception,
            commands::decide_exception,
            commands::cosign_exception,
            commands::sweep,
            commands::audit_log,
            commands::audit_log_page,
            commands::audit_log_for,
            commands::model_timeline,
            commands::verify_log,
            commands::add_member,
            commands::offboard_member,
            commands::policy,
            commands::set_policy,
            commands::list_nhis_page,
            commands::add_nhi,
            commands::link_nhi,
            commands::rotate_nhi,
            commands::revoke_nhi,
            commands::inbox,
            commands::registry_create_sample,
            commands::change_passphrase,
            commands::calendar_query,
            commands::check_head,
            commands::export_calendar,
            evidence::export_pack,
            evidence::verify_pack_dir,
            evidence::drift_compute,
            evidence::choose_folder,
            evidence::choose_csv_file,
            commands::show_nhi,
            commands::set_nhi_owner,
            commands::accept_nhi_finding,
            commands::nhi_posture_with,
            commands::notify_due,
        ])
        .run(tauri::generate_context!())
        .expect("error while running the Driftwarden desktop app");
}
