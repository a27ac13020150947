//! `ember::Error`: the status kind of a failing call and the library's message.

use std::ffi::CStr;
use std::fmt;

use ember_sys as sys;

/// What kind of failure a call reported: one variant per `ember_status` error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `EMBER_ERR_INVALID_ARGUMENT`: a bad parameter (`top_p = 2`, an out-of-range token id, n_ctx = -1).
    InvalidArgument,
    /// `EMBER_ERR_INVALID_FILE`: a malformed or truncated model file.
    InvalidFile,
    /// `EMBER_ERR_IO`: the operating system refused (open, mmap, read), e.g. a missing file.
    Io,
    /// `EMBER_ERR_UNSUPPORTED`: valid input ember cannot handle (yet).
    Unsupported,
    /// `EMBER_ERR_CANCELLED`: a callback or a cancel request stopped the call.
    Cancelled,
    /// `EMBER_ERR_OUT_OF_MEMORY`.
    OutOfMemory,
    /// `EMBER_ERR_BUFFER_TOO_SMALL` (the binding sizes its buffers itself; seeing this is a bug).
    BufferTooSmall,
    /// `EMBER_ERR_INTERNAL`: a bug in ember; please report it with the message.
    Internal,
    /// `EMBER_ERR_NOT_FOUND`: a metadata key or chat template the model does not have.
    NotFound,
    /// A status code this binding does not know (a newer library).
    Other(i32),
}

impl ErrorKind {
    /// The kind of an `ember_status` error code.
    pub fn from_status(status: i32) -> ErrorKind {
        match status {
            sys::EMBER_ERR_INVALID_ARGUMENT => ErrorKind::InvalidArgument,
            sys::EMBER_ERR_INVALID_FILE => ErrorKind::InvalidFile,
            sys::EMBER_ERR_IO => ErrorKind::Io,
            sys::EMBER_ERR_UNSUPPORTED => ErrorKind::Unsupported,
            sys::EMBER_ERR_CANCELLED => ErrorKind::Cancelled,
            sys::EMBER_ERR_OUT_OF_MEMORY => ErrorKind::OutOfMemory,
            sys::EMBER_ERR_BUFFER_TOO_SMALL => ErrorKind::BufferTooSmall,
            sys::EMBER_ERR_INTERNAL => ErrorKind::Internal,
            sys::EMBER_ERR_NOT_FOUND => ErrorKind::NotFound,
            other => ErrorKind::Other(other),
        }
    }

    /// The `ember_status` code of this kind.
    pub fn status(self) -> i32 {
        match self {
            ErrorKind::InvalidArgument => sys::EMBER_ERR_INVALID_ARGUMENT,
            ErrorKind::InvalidFile => sys::EMBER_ERR_INVALID_FILE,
            ErrorKind::Io => sys::EMBER_ERR_IO,
            ErrorKind::Unsupported => sys::EMBER_ERR_UNSUPPORTED,
            ErrorKind::Cancelled => sys::EMBER_ERR_CANCELLED,
            ErrorKind::OutOfMemory => sys::EMBER_ERR_OUT_OF_MEMORY,
            ErrorKind::BufferTooSmall => sys::EMBER_ERR_BUFFER_TOO_SMALL,
            ErrorKind::Internal => sys::EMBER_ERR_INTERNAL,
            ErrorKind::NotFound => sys::EMBER_ERR_NOT_FOUND,
            ErrorKind::Other(status) => status,
        }
    }

    /// The library's short description of the status ("invalid argument").
    pub fn description(self) -> String {
        // SAFETY: ember_status_string returns static NUL-terminated text for any code.
        unsafe { cstr_lossy(sys::ember_status_string(self.status())) }
    }
}

/// An error from libember (or from this binding, in the library's style).
///
/// `message()` is the library's `ember_last_error()` of the failing call,
/// naming the place: `"[gguf] /x.gguf: cannot open: No such file or directory"`.
/// Errors the binding detects itself before calling the library (a NUL byte
/// in a path, a session busy with a stream) use the same form with an
/// `ember::` place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into() }
    }

    /// The error of a failing status, with this thread's `ember_last_error()`.
    /// Call it on the thread of the failing call, before any other call can fail.
    pub(crate) fn from_status(status: i32) -> Error {
        // SAFETY: ember_last_error returns thread-local NUL-terminated text (never NULL).
        let mut message = unsafe { cstr_lossy(sys::ember_last_error()) };
        let kind = ErrorKind::from_status(status);
        if message.is_empty() {
            message = format!("[ember] {}", kind.description());
        }
        Error { kind, message }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The `ember_status` code (negative).
    pub fn status(&self) -> i32 {
        self.kind.status()
    }

    /// The library's message, naming the place of the failure.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// `Ok(())` for EMBER_OK, else the error with this thread's message.
pub(crate) fn check(status: i32) -> Result<()> {
    if status == sys::EMBER_OK {
        Ok(())
    } else {
        Err(Error::from_status(status))
    }
}

/// Owned text of a C string (NULL gives ""), invalid UTF-8 replaced.
///
/// # Safety
/// `p` is NULL or points to NUL-terminated text that stays valid during the call.
pub(crate) unsafe fn cstr_lossy(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    CStr::from_ptr(p).to_string_lossy().into_owned()
}
