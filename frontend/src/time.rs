//! "2 hours ago" in the browser, with the same wording as the CLI.

use wasm_bindgen::JsValue;

pub fn ago(unix_secs: i64) -> String {
    if unix_secs <= 0 {
        return "N/A".into();
    }
    let now = (js_sys::Date::now() / 1000.0) as i64;
    format!("{} ago", berth_types::units::human_duration(now - unix_secs))
}

/// A unix time as a local date and time, for tooltips.
pub fn local(unix_secs: i64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(unix_secs as f64 * 1000.0));
    d.to_locale_string("en-GB", &JsValue::UNDEFINED).into()
}
