//! Desktop hardening, checked on the app's own configuration files: the main window's capability
//! grants exactly the shell's commands (each one exists in `generate_handler!` and in the build
//! script's command list, none is missing, nothing from a plugin or the core is granted), no
//! remote URL is loaded or given IPC access, no shell/http/fs plugin is linked, and the content
//! security policy allows scripts from the app itself only.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The command names between `start` and the closing `end` of a Rust list, without module paths.
fn names_between(src: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = src
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found"))
        + start.len();
    let to = from + src[from..].find(end).expect("end of the list");
    let code: Vec<&str> = src[from..to]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    code.join("\n")
        .split(',')
        .map(|s| {
            s.trim()
                .trim_matches('"')
                .rsplit("::")
                .next()
                .unwrap()
                .to_string()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn handler_commands() -> BTreeSet<String> {
    names_between(&read("src-tauri/lib.rs"), "generate_handler![", "]")
}

fn capability_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("src-tauri/capabilities"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no capability files");
    files
}

#[test]
fn capabilities_grant_exactly_the_shells_commands_to_the_main_window() {
    let handlers = handler_commands();
    assert!(handlers.len() >= 20, "{handlers:?}");
    let build_list = names_between(&read("src-tauri/build.rs"), "COMMANDS: &[&str] = &[", "];");
    assert_eq!(
        handlers, build_list,
        "the build script declares exactly the registered commands"
    );
    let mut granted = BTreeSet::new();
    for file in capability_files() {
        let cap = json(&file);
        let name = file.display();
        assert_eq!(cap["windows"], serde_json::json!(["main"]), "{name}");
        assert!(cap.get("webviews").is_none(), "{name}: no other webviews");
        assert!(
            cap.get("remote").is_none(),
            "{name}: no remote origin gets IPC access"
        );
        assert_ne!(cap["local"], false, "{name}: local content only");
        assert!(
            cap.get("platforms").is_none() || cap["platforms"].is_array(),
            "{name}"
        );
        for p in cap["permissions"].as_array().expect("permissions") {
            // Only plain strings: no scoped permission objects (which could widen a plugin's scope).
            let p = p
                .as_str()
                .unwrap_or_else(|| panic!("{name}: {p} is not a plain grant"));
            assert!(
                !p.contains(':'),
                "{name}: {p} is a plugin or core permission; the window gets only the app's commands"
            );
            let cmd = p
                .strip_prefix("allow-")
                .unwrap_or_else(|| panic!("{name}: {p} is not an allow-<command> grant"))
                .replace('-', "_");
            assert!(
                handlers.contains(&cmd),
                "{name}: {p} grants a command that does not exist"
            );
            assert!(granted.insert(cmd), "{name}: {p} granted twice");
        }
    }
    let missing: Vec<_> = handlers.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "commands the window needs but is not granted: {missing:?}"
    );
}

#[test]
fn no_remote_content_no_shell_and_a_strict_csp() {
    let conf = json(&root().join("tauri.conf.json"));
    let text = read("tauri.conf.json");
    for key in [
        "dangerousRemoteDomainIpcAccess",
        "dangerousDisableAssetCspModification",
        "dangerousUseHttpScheme",
        "remote",
    ] {
        assert!(!text.contains(key), "tauri.conf.json must not set {key}");
    }
    let frontend = conf["build"]["frontendDist"].as_str().unwrap();
    assert!(
        !frontend.contains("://"),
        "the app ships its own files, not a URL: {frontend}"
    );
    assert!(root().join(frontend).join("index.html").exists() || frontend == "ui/dist");
    for w in conf["app"]["windows"].as_array().unwrap() {
        if let Some(url) = w.get("url").and_then(Value::as_str) {
            assert!(
                !url.contains("://"),
                "window {} loads a remote URL: {url}",
                w["label"]
            );
        }
    }
    assert_eq!(conf["app"]["withGlobalTauri"], false);
    let sec = &conf["app"]["security"];
    assert_eq!(sec["freezePrototype"], true);
    let csp = &sec["csp"];
    let directive = |k: &str| -> Vec<String> {
        csp[k]
            .as_str()
            .unwrap_or_else(|| panic!("CSP has no {k}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        directive("script-src"),
        ["'self'"],
        "scripts from the app only"
    );
    assert_eq!(directive("default-src"), ["'self'"]);
    assert_eq!(directive("object-src"), ["'none'"]);
    for k in [
        "default-src",
        "script-src",
        "style-src",
        "img-src",
        "font-src",
    ] {
        for source in directive(k) {
            assert!(
                !source.contains("unsafe") && !source.starts_with("http") && source != "*",
                "{k} allows {source}"
            );
        }
    }
    for source in directive("connect-src") {
        assert!(
            source == "ipc:" || source == "http://ipc.localhost",
            "connect-src allows {source}: the page talks to the app only"
        );
    }

    // No plugin that runs programs, fetches URLs or opens arbitrary files from the page.
    let manifest = read("Cargo.toml");
    for banned in [
        "tauri-plugin-shell",
        "tauri-plugin-http",
        "tauri-plugin-fs",
        "tauri-plugin-opener",
        "tauri-plugin-process",
        "tauri-plugin-updater",
    ] {
        assert!(!manifest.contains(banned), "Cargo.toml links {banned}");
    }
    let lib = read("src-tauri/lib.rs");
    assert!(!lib.contains("tauri_plugin_shell"));
    let ui_pkg = read("ui/package.json");
    assert!(
        !ui_pkg.contains("@tauri-apps/plugin-shell"),
        "the front end does not use the shell plugin"
    );
}
