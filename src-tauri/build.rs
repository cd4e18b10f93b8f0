//! Build script of the desktop app: generates the Tauri context and the access-control manifest.
//! Every command the front end may call is declared here; the main window's capability file
//! (`src-tauri/capabilities/main.json`) grants exactly these.

const COMMANDS: &[&str] = &[
    "default_registry_dir",
    "registry_create",
    "registry_open",
    "registry_lock",
    "session",
    "list_models",
    "list_models_page",
    "list_members",
    "show_model",
    "add_model",
    "set_decision_rights",
    "set_threshold",
    "approval_gate",
    "approve_model",
    "ingest_file",
    "choose_measurement_file",
    "list_measurements",
    "drift_series",
    "list_exceptions",
    "list_exceptions_page",
    "show_exception",
    "start_validation",
    "validate_exception",
    "flag_exception",
    "decide_exception",
    "cosign_exception",
    "sweep",
    "audit_log",
    "audit_log_page",
    "audit_log_for",
    "model_timeline",
    "verify_log",
    "add_member",
    "offboard_member",
    "policy",
    "set_policy",
    "list_nhis_page",
    "add_nhi",
    "link_nhi",
    "rotate_nhi",
    "revoke_nhi",
    "inbox",
    "registry_create_sample",
    "change_passphrase",
    "calendar_query",
    "check_head",
    "export_calendar",
    "export_pack",
    "verify_pack_dir",
    "drift_compute",
    "choose_folder",
    "choose_csv_file",
    "show_nhi",
    "set_nhi_owner",
    "accept_nhi_finding",
    "nhi_posture_with",
    "notify_due",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run the Tauri build script");
}
