import CEmber

/// A GGUF model loaded by libember: its metadata, tokenizer and weights.
///
/// A model is immutable once loaded, and libember allows every model and
/// tokenizer call from any number of threads at once, so `Model` is `Sendable`:
/// share one model between tasks and threads, each of which runs its own
/// ``Session``. The library's model is freed when the last reference goes (a
/// session keeps its model alive).
public final class Model: Sendable {
    /// How to load a model.
    public struct Options {
        /// Default threads of its sessions; 0: the hardware threads, at most 8.
        public var threads: Int
        /// Map the file (default) instead of reading it into memory.
        public var mmap: Bool
        /// Load metadata and tokenizer only; no session can run.
        public var vocabOnly: Bool
        /// Called during the load with its progress in 0...1 (on the loading
        /// thread); returning false cancels the load (`EmberError.Kind.cancelled`).
        public var progress: ((Float) -> Bool)?

        public init(threads: Int = 0, mmap: Bool = true, vocabOnly: Bool = false,
                    progress: ((Float) -> Bool)? = nil) {
            self.threads = threads
            self.mmap = mmap
            self.vocabOnly = vocabOnly
            self.progress = progress
        }
    }

    // The C model is immutable and thread-safe (ember.h): the pointer may be used from any thread.
    nonisolated(unsafe) let handle: OpaquePointer

    /// The file the model was loaded from.
    public let path: String
    /// Loaded with `vocabOnly`: tokenizer and metadata only.
    public let vocabOnly: Bool
    /// Tokens in the vocabulary.
    public let vocabularySize: Int
    /// The context length the model was trained with.
    public let trainingContextSize: Int
    /// Width of the hidden state (and of an embedding).
    public let embeddingSize: Int
    /// Transformer blocks.
    public let layerCount: Int
    /// Parameters (weights).
    public let parameterCount: UInt64
    /// The beginning-of-sequence token, nil if the vocabulary has none.
    public let bosToken: Token?
    /// The end-of-sequence token, nil if the vocabulary has none.
    public let eosToken: Token?

    /// Loads a GGUF model.
    ///
    /// - Throws: `EmberError` with kind `.io` (missing or unreadable file),
    ///   `.invalidFile` (not a valid GGUF), `.unsupported` (an architecture or
    ///   tensor type ember cannot run), `.cancelled` (`progress` returned false).
    public init(path: String, options: Options = Options()) throws(EmberError) {
        var p = ember_model_params()
        try check(ember_model_default_params(&p, MemoryLayout<ember_model_params>.size))
        p.n_threads = try int32Arg(options.threads, "threads", "Ember.Model")
        p.use_mmap = options.mmap
        p.vocab_only = options.vocabOnly

        var out: OpaquePointer?
        let status: ember_status
        if let progress = options.progress {
            let box = ProgressBox(progress)
            p.progress = { value, userData in
                Unmanaged<ProgressBox>.fromOpaque(userData!).takeUnretainedValue().call(value) ? 0 : 1
            }
            p.progress_user_data = Unmanaged.passUnretained(box).toOpaque()
            status = withExtendedLifetime(box) { ember_model_load(path, &p, &out) }
        } else {
            status = ember_model_load(path, &p, &out)
        }
        try check(status)
        guard let handle = out else {
            throw EmberError(kind: .internal, status: ember_status(EMBER_ERR_INTERNAL),
                             message: "[Ember.Model] ember_model_load gave no model")
        }
        // deinit only runs for a fully initialised object: free by hand until then.
        do {
            func int(_ f: (OpaquePointer?, UnsafeMutablePointer<Int32>?) -> ember_status) throws(EmberError) -> Int {
                var v: Int32 = 0
                try check(f(handle, &v))
                return Int(v)
            }
            func token(_ f: (OpaquePointer?, UnsafeMutablePointer<Int32>?) -> ember_status) throws(EmberError) -> Token? {
                var v: Int32 = -1
                try check(f(handle, &v))
                return v >= 0 ? v : nil
            }
            var n: UInt64 = 0
            try check(ember_model_n_params(handle, &n))
            parameterCount = n
            vocabularySize = try int(ember_model_n_vocab)
            trainingContextSize = try int(ember_model_n_ctx_train)
            embeddingSize = try int(ember_model_n_embd)
            layerCount = try int(ember_model_n_layer)
            bosToken = try token(ember_token_bos)
            eosToken = try token(ember_token_eos)
        } catch {
            ember_model_free(handle)
            throw error
        }
        self.handle = handle
        self.path = path
        self.vocabOnly = options.vocabOnly
    }

    deinit { ember_model_free(handle) }

    // MARK: metadata

    /// One line: name, architecture, size, weight type, shape.
    public func summary() throws(EmberError) -> String {
        try readText { ember_model_description(handle, $0, $1, $2) }
    }

    /// The model's `tokenizer.chat_template` (Jinja source), nil if the file has none.
    public func chatTemplate() throws(EmberError) -> String? {
        do {
            return try readText(guess: 4096) { ember_model_chat_template(handle, $0, $1, $2) }
        } catch where error.kind == .notFound {
            return nil
        }
    }

    /// One GGUF metadata value as text (strings as they are, numbers in shortest
    /// round-trip form, bools as true/false, arrays as `[a, b, ...]`); nil if the
    /// file has no such key.
    public func metadata(_ key: String) throws(EmberError) -> String? {
        do {
            return try readText { ember_model_meta_get(handle, key, $0, $1, $2) }
        } catch where error.kind == .notFound {
            return nil
        }
    }

    /// Every metadata key in file order with its value as text (see `metadata(_:)`).
    /// Tokenizer arrays come in full, so this can be large.
    public func metadata() throws(EmberError) -> [(key: String, value: String)] {
        var count = 0
        try check(ember_model_meta_count(handle, &count))
        var entries: [(key: String, value: String)] = []
        entries.reserveCapacity(count)
        for i in 0..<count {
            let key = try readText { ember_model_meta_key(handle, i, $0, $1, $2) }
            entries.append((key, try metadata(key) ?? ""))
        }
        return entries
    }

    // MARK: tokenizer

    /// Token ids of text.
    /// - Parameters:
    ///   - addSpecial: add BOS/EOS as the vocabulary asks.
    ///   - parseSpecial: read control tokens written in the text (`"<|im_start|>"`) as their ids.
    public func tokenize(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) throws(EmberError) -> [Token] {
        var utf8 = Array(text.utf8)
        utf8.append(0)  // a valid pointer also for ""; the length excludes it
        let n = utf8.count - 1
        // A token covers at least one byte (byte fallback), plus BOS/EOS and a space prefix.
        var capacity = n + 8
        for _ in 0..<3 {
            var tokens = [Token](repeating: 0, count: capacity)
            var outN = 0
            let status = utf8.withUnsafeBufferPointer { text in
                tokens.withUnsafeMutableBufferPointer { buf in
                    text.withMemoryRebound(to: CChar.self) { chars in
                        ember_tokenize(handle, chars.baseAddress, n, addSpecial, parseSpecial,
                                       buf.baseAddress, buf.count, &outN)
                    }
                }
            }
            if status == ember_status(EMBER_OK) { return Array(tokens[0..<outN]) }
            if status != ember_status(EMBER_ERR_BUFFER_TOO_SMALL) { throw EmberError.last(status) }
            capacity = outN
        }
        throw EmberError(kind: .internal, status: ember_status(EMBER_ERR_INTERNAL),
                         message: "[Ember.Model.tokenize] the token count kept growing")
    }

    /// Text of tokens (the tokenizer's leading space removed).
    /// - Parameter special: also render control and unknown tokens (`"<s>"`); by default they give nothing.
    public func detokenize(_ tokens: [Token], special: Bool = false) throws(EmberError) -> String {
        String(decoding: try detokenizeBytes(tokens, special: special), as: UTF8.self)
    }

    /// Like `detokenize`, but the raw bytes (which need not be valid UTF-8).
    public func detokenizeBytes(_ tokens: [Token], special: Bool = false) throws(EmberError) -> [UInt8] {
        try tokens.withUnsafeBufferPointer { ids throws(EmberError) in
            try readBytes(guess: 8 * ids.count + 16) {
                ember_detokenize(handle, ids.baseAddress, ids.count, !special, $0, $1, $2)
            }
        }
    }

    /// Raw bytes of one token (possibly part of a UTF-8 character).
    /// - Parameter special: render control and unknown tokens; by default they give no bytes.
    public func tokenPiece(_ token: Token, special: Bool = false) throws(EmberError) -> [UInt8] {
        try readBytes(guess: 64) { ember_token_to_piece(handle, token, special, $0, $1, $2) }
    }

    /// True for end-of-generation tokens (EOS, EOT, `<|im_end|>`, ...).
    public func isEndOfGeneration(_ token: Token) throws(EmberError) -> Bool {
        var out = false
        try check(ember_token_is_eog(handle, token, &out))
        return out
    }

    // MARK: sessions

    /// A new session on this model (see ``Session``).
    public func makeSession(_ options: Session.Options = Session.Options()) throws(EmberError) -> Session {
        try Session(model: self, options: options)
    }

    /// Generates text after prompt in a fresh session that is freed afterwards.
    /// Safe from any number of threads at once; for successive calls that share
    /// a prefix (a chat), a ``Session`` reuses its KV cache instead.
    public func generate(prompt: String, params: GenerateParams = GenerateParams(),
                         sessionOptions options: Session.Options = Session.Options()) throws(EmberError) -> Generation {
        try makeSession(options).generate(prompt: prompt, params: params)
    }
}

/// The load progress closure, reached from the C callback through user_data.
private final class ProgressBox {
    let call: (Float) -> Bool
    init(_ call: @escaping (Float) -> Bool) { self.call = call }
}
