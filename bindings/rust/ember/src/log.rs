//! Routing libember's log messages (process-wide).

use std::os::raw::{c_char, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use ember_sys as sys;

use crate::error::{check, cstr_lossy, Result};

/// Severity of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Details for debugging.
    Debug,
    /// Progress (a model loaded, ...).
    Info,
    /// Something worth knowing (the default threshold).
    Warn,
    /// A failure.
    Error,
    /// As a threshold: nothing at all.
    None,
}

impl LogLevel {
    fn to_raw(self) -> c_int {
        match self {
            LogLevel::Debug => sys::EMBER_LOG_DEBUG,
            LogLevel::Info => sys::EMBER_LOG_INFO,
            LogLevel::Warn => sys::EMBER_LOG_WARN,
            LogLevel::Error => sys::EMBER_LOG_ERROR,
            LogLevel::None => sys::EMBER_LOG_NONE,
        }
    }

    fn from_raw(level: c_int) -> LogLevel {
        match level {
            sys::EMBER_LOG_DEBUG => LogLevel::Debug,
            sys::EMBER_LOG_INFO => LogLevel::Info,
            sys::EMBER_LOG_WARN => LogLevel::Warn,
            sys::EMBER_LOG_ERROR => LogLevel::Error,
            _ => LogLevel::None,
        }
    }
}

/// A log sink: called with each message's level and text.
pub type LogFn = Box<dyn Fn(LogLevel, &str) + Send + Sync>;

type Sink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// The installed sink. The library's log is process-wide, so its Rust side is too.
static SINK: Mutex<Option<Sink>> = Mutex::new(None);

unsafe extern "C" fn log_trampoline(level: c_int, msg: *const c_char, _user_data: *mut c_void) {
    let sink = SINK.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(sink) = sink {
        // SAFETY: msg is NUL-terminated and valid during the call.
        let text = unsafe { cstr_lossy(msg) };
        // A panic cannot cross into C; a log sink's panic is dropped.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| sink(LogLevel::from_raw(level), &text)));
    }
}

/// Routes the library's log messages to `sink` (from any thread, one call at
/// a time); `None` restores the default (warnings and errors to stderr).
/// The sink must not call `set_log_callback`.
pub fn set_log_callback(sink: Option<LogFn>) -> Result<()> {
    let installed = sink.is_some();
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = sink.map(Sink::from);
    let callback: sys::ember_log_callback = if installed { Some(log_trampoline) } else { None };
    // SAFETY: the trampoline reads only the static sink; no user data.
    check(unsafe { sys::ember_set_log_callback(callback, std::ptr::null_mut()) })
}

/// Drops messages below `level` (the default is [`LogLevel::Warn`]).
pub fn set_log_level(level: LogLevel) -> Result<()> {
    // SAFETY: a plain call.
    check(unsafe { sys::ember_set_log_level(level.to_raw()) })
}
