//! Memory settings of the platform webview.
//!
//! On Linux the webview is WebKitGTK. Measured under Xvfb on the idle unlock screen (release
//! build, PSS from /proc/<pid>/smaps_rollup): its default accelerated compositing keeps about 80 MiB
//! of GL buffers in the web process (and loads the GL driver there); the app's pages are forms,
//! tables and two small 2-D canvas charts, which WebKit draws just as well on the CPU. The other
//! settings drop caches the single-page app never uses: it never navigates (no back/forward
//! cache), loads everything from its own bundle (no memory cache of other documents) and draws no
//! WebGL or Web Audio.

use tauri::{App, Manager, Runtime};

/// Process-wide settings the web processes must start with; call first thing in `run`, while
/// the process has one thread.
///
/// JavaScriptCore's JIT tiers are off (its interpreter runs the app's code): with the
/// 10,000-model registry open they held about 20 MiB of the web process on the model page
/// (`make startup`: 312 MiB PSS over the app's processes with them, 294 without), and first view
/// was no slower (984 ms). The app runs a small bundle of its own code, no code from the web;
/// fewer executable pages is also less to attack. Set `JSC_useJIT` yourself to override.
pub fn before_start() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("JSC_useJIT").is_none() {
        std::env::set_var("JSC_useJIT", "0");
    }
}

/// Applies the settings to the main window's webview.
pub fn setup<R: Runtime>(app: &mut App<R>) -> Result<(), Box<dyn std::error::Error>> {
    let Some(window) = app.get_webview_window("main") else {
        return Ok(());
    };
    window.with_webview(|webview| {
        #[cfg(target_os = "linux")]
        linux::tune(&webview.inner());
        #[cfg(not(target_os = "linux"))]
        let _ = webview;
    })?;
    Ok(())
}

#[cfg(target_os = "linux")]
mod linux {
    use webkit2gtk::{
        CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
    };

    pub fn tune(webview: &webkit2gtk::WebView) {
        if let Some(settings) = WebViewExt::settings(webview) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            settings.set_enable_page_cache(false);
            settings.set_enable_webgl(false);
            settings.set_enable_webaudio(false);
        }
        if let Some(context) = webview.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    }
}
