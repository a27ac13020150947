//! The C ABI's buffer convention: a call writes into (buf, buf_size) and, when
//! that is too small, returns EMBER_ERR_BUFFER_TOO_SMALL with the needed
//! length in *out_len. These helpers grow the buffer and call again.

use std::ffi::CString;
use std::os::raw::c_char;

use ember_sys as sys;

use crate::error::{check, Error, ErrorKind, Result};

/// Bytes of a text output: `call(buf, buf_size, out_len)` is tried with
/// `guess` bytes, then once more with the length it asked for.
pub(crate) fn read_bytes(guess: usize, mut call: impl FnMut(*mut c_char, usize, *mut usize) -> i32) -> Result<Vec<u8>> {
    let mut cap = guess.max(16);
    // Two rounds suffice for a deterministic call; a third covers a text
    // that grew between them (it never does for a loaded model).
    for _ in 0..3 {
        let mut buf = vec![0u8; cap];
        let mut len = 0usize;
        let status = call(buf.as_mut_ptr().cast(), buf.len(), &mut len);
        if status == sys::EMBER_OK {
            buf.truncate(len.min(cap.saturating_sub(1)));
            return Ok(buf);
        }
        if status != sys::EMBER_ERR_BUFFER_TOO_SMALL {
            return Err(Error::from_status(status));
        }
        cap = len + 1;
    }
    Err(Error::new(ErrorKind::BufferTooSmall, "[ember::read_text] the text kept growing between calls"))
}

/// A text output as a String (invalid UTF-8 replaced by U+FFFD).
pub(crate) fn read_text(guess: usize, call: impl FnMut(*mut c_char, usize, *mut usize) -> i32) -> Result<String> {
    let bytes = read_bytes(guess, call)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Token ids of an output that follows the same convention with counts of tokens.
pub(crate) fn read_tokens(
    guess: usize,
    mut call: impl FnMut(*mut sys::ember_token, usize, *mut usize) -> i32,
) -> Result<Vec<sys::ember_token>> {
    let mut cap = guess;
    for _ in 0..3 {
        let mut buf = vec![0 as sys::ember_token; cap];
        let mut n = 0usize;
        let ptr = if cap == 0 { std::ptr::null_mut() } else { buf.as_mut_ptr() };
        let status = call(ptr, cap, &mut n);
        if status == sys::EMBER_OK {
            buf.truncate(n.min(cap));
            return Ok(buf);
        }
        if status != sys::EMBER_ERR_BUFFER_TOO_SMALL {
            return Err(Error::from_status(status));
        }
        cap = n;
    }
    Err(Error::new(ErrorKind::BufferTooSmall, "[ember::tokenize] the token count kept growing between calls"))
}

/// A C string of `text`, or an InvalidArgument error naming `place` and
/// `what` when the text holds a NUL byte (C would cut it there).
pub(crate) fn c_string(text: &str, place: &str, what: &str) -> Result<CString> {
    CString::new(text).map_err(|e| {
        Error::new(ErrorKind::InvalidArgument, format!("[{place}] {what} contains a NUL byte at {}", e.nul_position()))
    })
}

/// An i32 the library takes, or an InvalidArgument error when `value` does not fit.
pub(crate) fn to_i32(value: usize, place: &str, what: &str) -> Result<i32> {
    i32::try_from(value).map_err(|_| {
        Error::new(ErrorKind::InvalidArgument, format!("[{place}] {what} {value} does not fit in an int32"))
    })
}

/// `check` for calls whose only output is an integer written through a pointer.
pub(crate) fn read_value<T: Default>(call: impl FnOnce(*mut T) -> i32) -> Result<T> {
    let mut out = T::default();
    check(call(&mut out))?;
    Ok(out)
}
