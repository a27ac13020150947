//! The #[repr(C)] structs match capi/ember.h: sizes, alignments and field
//! offsets as the C compiler lays them out, and the library reads and writes
//! them at those offsets.

use std::mem::{align_of, offset_of, size_of};
use std::os::raw::c_int;
use std::path::PathBuf;
use std::process::Command;
use std::ptr;

use ember_sys::*;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..").canonicalize().expect("the repository root")
}

fn tiny_model() -> PathBuf {
    let shared =
        std::env::var_os("EMBER_SHARED_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("../shared"));
    shared.join("testdata/models/tiny-llama-f16.gguf")
}

/// "name size align" and "name.field offset" lines, for every struct of the header.
const C_PROBE: &str = r#"
#include <stdio.h>
#include <stddef.h>
#include "ember.h"
#define S(T) printf(#T " %zu %zu\n", sizeof(T), _Alignof(T));
#define F(T, f) printf(#T "." #f " %zu\n", offsetof(T, f));
int main(void) {
  S(ember_model_params) F(ember_model_params, struct_size) F(ember_model_params, n_threads)
  F(ember_model_params, use_mmap) F(ember_model_params, vocab_only) F(ember_model_params, progress)
  F(ember_model_params, progress_user_data)
  S(ember_session_params) F(ember_session_params, struct_size) F(ember_session_params, n_ctx)
  F(ember_session_params, n_batch) F(ember_session_params, n_threads) F(ember_session_params, kv_type)
  F(ember_session_params, n_seq_max)
  S(ember_generate_params) F(ember_generate_params, struct_size) F(ember_generate_params, temperature)
  F(ember_generate_params, top_k) F(ember_generate_params, top_p) F(ember_generate_params, min_p)
  F(ember_generate_params, typical_p) F(ember_generate_params, repeat_penalty) F(ember_generate_params, repeat_last_n)
  F(ember_generate_params, frequency_penalty) F(ember_generate_params, presence_penalty) F(ember_generate_params, seed)
  F(ember_generate_params, n_predict) F(ember_generate_params, add_special) F(ember_generate_params, parse_special)
  F(ember_generate_params, ignore_eos) F(ember_generate_params, stop) F(ember_generate_params, n_stop)
  F(ember_generate_params, logit_bias_tokens) F(ember_generate_params, logit_bias) F(ember_generate_params, n_logit_bias)
  F(ember_generate_params, on_piece) F(ember_generate_params, on_piece_user_data)
  F(ember_generate_params, on_prompt_progress) F(ember_generate_params, on_prompt_progress_user_data)
  S(ember_generate_stats) F(ember_generate_stats, struct_size) F(ember_generate_stats, stop_reason)
  F(ember_generate_stats, prompt_tokens) F(ember_generate_stats, reused_tokens) F(ember_generate_stats, generated_tokens)
  F(ember_generate_stats, ttft_ms) F(ember_generate_stats, prefill_ms) F(ember_generate_stats, decode_ms)
  F(ember_generate_stats, prefill_tok_s) F(ember_generate_stats, decode_tok_s)
  S(ember_chat_message) F(ember_chat_message, role) F(ember_chat_message, content)
  printf("EMBER_ABI_VERSION %d\n", EMBER_ABI_VERSION);
  printf("EMBER_SEED_RANDOM %llu\n", (unsigned long long)EMBER_SEED_RANDOM);
  return 0;
}
"#;

/// The same lines from the Rust declarations.
fn rust_layout() -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! s {
        ($t:ty) => {
            out.push(format!("{} {} {}", stringify!($t), size_of::<$t>(), align_of::<$t>()));
        };
    }
    macro_rules! f {
        ($t:ty, $($f:ident),+) => {
            $(out.push(format!("{}.{} {}", stringify!($t), stringify!($f), offset_of!($t, $f)));)+
        };
    }
    s!(ember_model_params);
    f!(ember_model_params, struct_size, n_threads, use_mmap, vocab_only, progress, progress_user_data);
    s!(ember_session_params);
    f!(ember_session_params, struct_size, n_ctx, n_batch, n_threads, kv_type, n_seq_max);
    s!(ember_generate_params);
    f!(ember_generate_params, struct_size, temperature, top_k, top_p, min_p, typical_p, repeat_penalty, repeat_last_n);
    f!(ember_generate_params, frequency_penalty, presence_penalty, seed, n_predict, add_special, parse_special);
    f!(ember_generate_params, ignore_eos, stop, n_stop, logit_bias_tokens, logit_bias, n_logit_bias, on_piece);
    f!(ember_generate_params, on_piece_user_data, on_prompt_progress, on_prompt_progress_user_data);
    s!(ember_generate_stats);
    f!(ember_generate_stats, struct_size, stop_reason, prompt_tokens, reused_tokens, generated_tokens, ttft_ms);
    f!(ember_generate_stats, prefill_ms, decode_ms, prefill_tok_s, decode_tok_s);
    s!(ember_chat_message);
    f!(ember_chat_message, role, content);
    out.push(format!("EMBER_ABI_VERSION {EMBER_ABI_VERSION}"));
    out.push(format!("EMBER_SEED_RANDOM {EMBER_SEED_RANDOM}"));
    out
}

#[test]
fn every_struct_size_alignment_and_field_offset_equals_the_c_compilers() {
    let dir = std::env::temp_dir().join(format!("ember-sys-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("probe.c");
    let exe = dir.join("probe");
    std::fs::write(&src, C_PROBE).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(&cc)
        .arg("-std=c99")
        .arg("-I")
        .arg(repo_root().join("capi"))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?} (set CC): {e}"));
    assert!(built.status.success(), "compiling the probe failed:\n{}", String::from_utf8_lossy(&built.stderr));
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success());
    let c_lines: Vec<String> = String::from_utf8(run.stdout).unwrap().lines().map(str::to_owned).collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(rust_layout(), c_lines);
}

#[test]
fn default_params_written_at_the_rust_offsets_are_the_documented_defaults() {
    unsafe {
        let mut m: ember_model_params = std::mem::zeroed();
        assert_eq!(ember_model_default_params(&mut m, size_of::<ember_model_params>()), EMBER_OK);
        assert_eq!(m.struct_size, size_of::<ember_model_params>());
        assert_eq!((m.n_threads, m.use_mmap, m.vocab_only), (0, true, false));
        assert!(m.progress.is_none() && m.progress_user_data.is_null());

        let mut s: ember_session_params = std::mem::zeroed();
        assert_eq!(ember_session_default_params(&mut s, size_of::<ember_session_params>()), EMBER_OK);
        assert_eq!((s.n_ctx, s.n_batch, s.n_threads, s.kv_type, s.n_seq_max), (0, 512, 0, EMBER_KV_F16, 1));

        let mut g: ember_generate_params = std::mem::zeroed();
        assert_eq!(ember_generate_default_params(&mut g, size_of::<ember_generate_params>()), EMBER_OK);
        assert_eq!((g.temperature, g.top_k, g.top_p, g.min_p, g.typical_p), (0.8, 40, 0.95, 0.05, 1.0));
        assert_eq!((g.repeat_penalty, g.repeat_last_n, g.frequency_penalty, g.presence_penalty), (1.0, 64, 0.0, 0.0));
        assert_eq!((g.seed, g.n_predict), (EMBER_SEED_RANDOM, 256));
        assert_eq!((g.add_special, g.parse_special, g.ignore_eos), (true, false, false));
        assert!(g.stop.is_null() && g.n_stop == 0 && g.n_logit_bias == 0 && g.on_piece.is_none());
    }
}

/// A buffer of `size_of::<T>() + 16` bytes, zeroed, whose first bytes are `value`.
fn padded<T: Copy>(value: T) -> Vec<u64> {
    let words = (size_of::<T>() + 16).div_ceil(8);
    let mut buf = vec![0u64; words];
    unsafe { ptr::write_unaligned(buf.as_mut_ptr().cast::<T>(), value) };
    buf
}

/// The library's own sizeof of each options struct equals ours: a struct one
/// field longer than ours, with that field set, is refused as a field of a
/// newer ember.h at byte size_of::<T>(); the same struct with it zero works.
#[test]
fn the_library_struct_sizes_equal_size_of_the_rust_structs() {
    let path = std::ffi::CString::new(tiny_model().to_str().unwrap()).unwrap();
    unsafe {
        // ember_model_params, read by ember_model_load.
        let mut m: ember_model_params = std::mem::zeroed();
        ember_model_default_params(&mut m, size_of::<ember_model_params>());
        m.struct_size = size_of::<ember_model_params>() + 8;
        let mut buf = padded(m);
        let bytes = buf.as_mut_ptr().cast::<u8>();
        *bytes.add(size_of::<ember_model_params>()) = 1;
        let mut model: *mut ember_model = ptr::null_mut();
        let st = ember_model_load(path.as_ptr(), buf.as_ptr().cast(), &mut model);
        assert_eq!(st, EMBER_ERR_UNSUPPORTED, "a byte past ember_model_params must be an unknown field");
        let msg = std::ffi::CStr::from_ptr(ember_last_error()).to_string_lossy().into_owned();
        assert!(msg.contains(&format!("at byte {}", size_of::<ember_model_params>())), "{msg}");
        *bytes.add(size_of::<ember_model_params>()) = 0;
        assert_eq!(ember_model_load(path.as_ptr(), buf.as_ptr().cast(), &mut model), EMBER_OK);
        assert!(!model.is_null());

        // ember_session_params, read by ember_session_create.
        let mut s: ember_session_params = std::mem::zeroed();
        ember_session_default_params(&mut s, size_of::<ember_session_params>());
        s.n_ctx = 64;
        s.struct_size = size_of::<ember_session_params>() + 8;
        let mut buf = padded(s);
        let bytes = buf.as_mut_ptr().cast::<u8>();
        *bytes.add(size_of::<ember_session_params>()) = 1;
        let mut session: *mut ember_session = ptr::null_mut();
        assert_eq!(ember_session_create(model, buf.as_ptr().cast(), &mut session), EMBER_ERR_UNSUPPORTED);
        *bytes.add(size_of::<ember_session_params>()) = 0;
        assert_eq!(ember_session_create(model, buf.as_ptr().cast(), &mut session), EMBER_OK);
        let mut n_ctx = 0;
        ember_session_n_ctx(session, &mut n_ctx);
        assert_eq!(n_ctx, 64, "n_ctx read at its offset");

        // ember_generate_params, read by ember_session_generate.
        let mut g: ember_generate_params = std::mem::zeroed();
        ember_generate_default_params(&mut g, size_of::<ember_generate_params>());
        g.temperature = 0.0;
        g.n_predict = 3;
        g.struct_size = size_of::<ember_generate_params>() + 8;
        let mut buf = padded(g);
        let bytes = buf.as_mut_ptr().cast::<u8>();
        *bytes.add(size_of::<ember_generate_params>()) = 1;
        let prompt = b"Hello";
        let gen = |params: *const ember_generate_params, stats: *mut ember_generate_stats| {
            ember_session_generate(
                session,
                prompt.as_ptr().cast(),
                prompt.len(),
                params,
                ptr::null_mut(),
                0,
                ptr::null_mut(),
                stats,
            )
        };
        assert_eq!(gen(buf.as_ptr().cast(), ptr::null_mut()), EMBER_ERR_UNSUPPORTED);
        *bytes.add(size_of::<ember_generate_params>()) = 0;

        // ember_generate_stats, written up to struct_size and no further than
        // the library's struct: the sentinel bytes past ours stay untouched.
        let mut stats_buf = vec![0xA5u8; size_of::<ember_generate_stats>() + 16];
        let stats = stats_buf.as_mut_ptr().cast::<ember_generate_stats>();
        ptr::write_unaligned(ptr::addr_of_mut!((*stats).struct_size), size_of::<ember_generate_stats>() + 16);
        assert_eq!(gen(buf.as_ptr().cast(), stats), EMBER_OK);
        assert!(stats_buf[size_of::<ember_generate_stats>()..].iter().all(|&b| b == 0xA5));
        let st: ember_generate_stats = ptr::read_unaligned(stats);
        assert_eq!((st.stop_reason, st.generated_tokens), (EMBER_STOP_LENGTH, 3));
        assert!(st.prompt_tokens >= 2 && st.decode_ms >= 0.0 && st.prefill_ms >= 0.0);

        ember_session_free(session);
        ember_model_free(model);
    }
}

#[test]
fn the_library_reports_the_abi_this_crate_declares() {
    unsafe {
        assert_eq!(ember_abi_version(), EMBER_ABI_VERSION as c_int);
        let v = std::ffi::CStr::from_ptr(ember_version()).to_str().unwrap();
        assert_eq!(v, format!("{EMBER_VERSION_MAJOR}.{EMBER_VERSION_MINOR}.{EMBER_VERSION_PATCH}"));
        ember_model_free(ptr::null_mut());
        ember_session_free(ptr::null_mut());
        ember_chat_free(ptr::null_mut());
    }
}
