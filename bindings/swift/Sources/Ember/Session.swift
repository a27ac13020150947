import CEmber
import Foundation

/// Runs a model: owns a KV cache, scratch buffers and worker threads.
///
/// A session is for one thread at a time (ember.h), so `Session` is not
/// `Sendable`: Swift 6 keeps it in the task or thread that made it. Make one
/// session per thread or task over a shared ``Model``. Two things reach a
/// session from elsewhere, both safe:
/// - ``stream(_:_:)`` runs the generation on a background thread; while it runs,
///   any other call on the session throws `EmberError.Kind.busy`;
/// - ``canceller`` is a `Sendable` handle whose `cancel()` stops the running
///   call from any thread.
///
/// Successive generations reuse the longest prompt prefix the KV cache holds.
/// The library's session is freed when the last of the session, its
/// cancellers and its running stream goes.
public final class Session {
    /// Element type of the KV cache.
    public enum KVType: Sendable {
        case f16, q8_0, q4_0

        var code: Int32 {
            switch self {
            case .f16: return Int32(EMBER_KV_F16)
            case .q8_0: return Int32(EMBER_KV_Q8_0)
            case .q4_0: return Int32(EMBER_KV_Q4_0)
            }
        }
    }

    /// How to make a session (`ember_session_params`); the defaults are the library's.
    public struct Options: Sendable {
        /// Positions per sequence; 0: min(trainingContextSize, 4096).
        public var contextSize: Int
        /// Tokens per forward pass.
        public var batchSize: Int
        /// 0: the model's threads.
        public var threads: Int
        public var kvType: KVType
        /// Independent sequences (ids 0..<sequences) for ``decode(_:at:sequence:allLogits:)``.
        public var sequences: Int

        public init(contextSize: Int = 0, batchSize: Int = 512, threads: Int = 0, kvType: KVType = .f16,
                    sequences: Int = 1) {
            self.contextSize = contextSize
            self.batchSize = batchSize
            self.threads = threads
            self.kvType = kvType
            self.sequences = sequences
        }
    }

    /// Stops the running call of a session from any thread or task.
    public struct Canceller: Sendable {
        let core: SessionCore

        /// Stops the running generation (at its next token or prompt chunk) or
        /// decode (at its next chunk); does nothing when no call is running.
        public func cancel() { core.cancel() }
    }

    let core: SessionCore

    /// The model the session runs.
    public var model: Model { core.model }

    public init(model: Model, options: Options = Options()) throws(EmberError) {
        let place = "Ember.Session"
        var p = ember_session_params()
        try check(ember_session_default_params(&p, MemoryLayout<ember_session_params>.size))
        p.n_ctx = try int32Arg(options.contextSize, "contextSize", place)
        p.n_batch = try int32Arg(options.batchSize, "batchSize", place)
        p.n_threads = try int32Arg(options.threads, "threads", place)
        p.kv_type = options.kvType.code
        p.n_seq_max = try int32Arg(options.sequences, "sequences", place)
        var out: OpaquePointer?
        try check(ember_session_create(model.handle, &p, &out))
        core = SessionCore(handle: out!, model: model)
    }

    /// A handle that cancels this session's running call from any thread.
    public var canceller: Canceller { Canceller(core: core) }

    /// The context size in force (0 resolved).
    public func contextSize() throws(EmberError) -> Int {
        try core.exclusive("Ember.Session.contextSize") { () throws(EmberError) in
            var out: Int32 = 0
            try check(ember_session_n_ctx(core.handle, &out))
            return Int(out)
        }
    }

    /// Figures of the last finished generation (also of a stream), nil before the first.
    public var lastStats: GenerateStats? { core.lastStats }

    // MARK: generation

    /// Generates text after prompt on sequence 0.
    ///
    /// A stop by ``Canceller/cancel()`` returns the text so far with
    /// `stats.stopReason == .cancelled`.
    /// - Throws: `.invalidArgument` for a bad parameter or a prompt that does
    ///   not fit the context (nothing changes then), `.busy` while a stream runs.
    public func generate(prompt: String, params: GenerateParams = GenerateParams()) throws(EmberError) -> Generation {
        try generate(.text(prompt), params, "Ember.Session.generate")
    }

    /// Generates text after prompt token ids (empty: start from BOS).
    public func generate(tokens: [Token], params: GenerateParams = GenerateParams()) throws(EmberError) -> Generation {
        try generate(.tokens(tokens), params, "Ember.Session.generate")
    }

    private func generate(_ prompt: Prompt, _ params: GenerateParams, _ place: String) throws(EmberError) -> Generation {
        let control = try core.begin(place)
        var text = ""
        var stats: GenerateStats?
        defer { core.end(control, stats: stats) }
        stats = try core.generate(prompt, params, control: control, place: place) { text += $0 }
        return Generation(text: text, stats: stats!)
    }

    /// The pieces of a generation as they are made. The generation starts at
    /// once on a background thread; joined, the pieces equal the text
    /// ``generate(prompt:params:)`` returns. Cancelling the consuming task (or
    /// dropping the stream) cancels the generation; the session is free again
    /// as soon as the background call returns. Errors (bad parameters, `.busy`)
    /// are thrown by the iteration. ``lastStats`` has the figures afterwards.
    public func stream(_ prompt: String, _ params: GenerateParams = GenerateParams())
        -> AsyncThrowingStream<String, Error> {
        stream(.text(prompt), params)
    }

    /// ``stream(_:_:)`` from prompt token ids.
    public func stream(tokens: [Token], _ params: GenerateParams = GenerateParams())
        -> AsyncThrowingStream<String, Error> {
        stream(.tokens(tokens), params)
    }

    private func stream(_ prompt: Prompt, _ params: GenerateParams) -> AsyncThrowingStream<String, Error> {
        let place = "Ember.Session.stream"
        let (stream, continuation) = AsyncThrowingStream<String, Error>.makeStream()
        let core = self.core
        let control: GenerationControl
        do {
            control = try core.begin(place)
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination { core.cancel(ifCurrent: control) }
        }
        let worker = Thread {
            var stats: GenerateStats?
            var failure: EmberError?
            do throws(EmberError) {
                stats = try core.generate(prompt, params, control: control, place: place) { continuation.yield($0) }
            } catch {
                failure = error
            }
            core.end(control, stats: stats)  // the session is free before the consumer sees the end
            continuation.finish(throwing: failure)
        }
        worker.name = "ember-stream"
        worker.start()
        return stream
    }

    // MARK: raw decoding

    /// Evaluates tokens at positions pos0, pos0+1, ... of a sequence, writing
    /// their keys and values into the KV cache.
    /// - Parameters:
    ///   - pos0: the first position; nil: right after the sequence's last one.
    ///   - allLogits: keep every token's logits (rows 0..<n), otherwise the last one's only.
    public func decode(_ tokens: [Token], at pos0: Int? = nil, sequence: Int = 0,
                       allLogits: Bool = false) throws(EmberError) {
        let place = "Ember.Session.decode"
        try core.exclusive(place) { () throws(EmberError) in
            let seq = try int32Arg(sequence, "sequence", place)
            let start: Int32
            if let pos0 { start = try int32Arg(pos0, "pos0", place) } else { start = try posMax(seq) + 1 }
            try check(tokens.withUnsafeBufferPointer {
                ember_session_decode(core.handle, $0.baseAddress, $0.count, start, seq, allLogits)
            })
        }
    }

    /// Rows of logits the last decode kept.
    public func outputCount() throws(EmberError) -> Int {
        try core.exclusive("Ember.Session.outputCount") { () throws(EmberError) in
            var out: Int32 = 0
            try check(ember_session_n_outputs(core.handle, &out))
            return Int(out)
        }
    }

    /// Row i of the last decode's (or generation step's) logits, vocabularySize
    /// floats; negative i counts from the end.
    public func logits(row i: Int = -1) throws(EmberError) -> [Float] {
        let place = "Ember.Session.logits"
        return try core.exclusive(place) { () throws(EmberError) in try row(try int32Arg(i, "row", place)) }
    }

    /// Logits of every token: evaluates tokens at positions pos0... of a sequence
    /// (dropping what the cache held there and after); one row of
    /// vocabularySize floats per token.
    public func logits(for tokens: [Token], from pos0: Int = 0, sequence: Int = 0) throws(EmberError) -> [[Float]] {
        let place = "Ember.Session.logits"
        if tokens.isEmpty { return [] }
        return try core.exclusive(place) { () throws(EmberError) in
            let seq = try int32Arg(sequence, "sequence", place)
            let start = try int32Arg(pos0, "pos0", place)
            try check(ember_session_kv_remove(core.handle, seq, start, -1))
            try check(tokens.withUnsafeBufferPointer {
                ember_session_decode(core.handle, $0.baseAddress, $0.count, start, seq, true)
            })
            var rows: [[Float]] = []
            rows.reserveCapacity(tokens.count)
            for i in 0..<tokens.count { rows.append(try row(Int32(i))) }
            return rows
        }
    }

    private func row(_ i: Int32) throws(EmberError) -> [Float] {
        var ptr: UnsafePointer<Float>?
        var n = 0
        try check(ember_session_logits(core.handle, i, &ptr, &n))
        return Array(UnsafeBufferPointer(start: ptr, count: n))
    }

    /// The embedding of tokens: the last hidden state (after the final norm)
    /// averaged over the tokens, scaled to unit length when normalize is true;
    /// embeddingSize floats. Runs on sequence 0, which it empties before and after.
    public func embed(_ tokens: [Token], normalize: Bool = true) throws(EmberError) -> [Float] {
        try core.exclusive("Ember.Session.embed") { () throws(EmberError) in
            var out = [Float](repeating: 0, count: model.embeddingSize)
            var n = 0
            try check(tokens.withUnsafeBufferPointer { ids in
                out.withUnsafeMutableBufferPointer {
                    ember_session_embed(core.handle, ids.baseAddress, ids.count, normalize, $0.baseAddress, $0.count, &n)
                }
            })
            return n < out.count ? Array(out[0..<n]) : out
        }
    }

    /// The embedding of text, tokenized with BOS/EOS as the vocabulary asks.
    public func embed(text: String, normalize: Bool = true) throws(EmberError) -> [Float] {
        try embed(try model.tokenize(text), normalize: normalize)
    }

    // MARK: KV cache

    /// Empties every sequence.
    public func kvClear() throws(EmberError) {
        try core.exclusive("Ember.Session.kvClear") { () throws(EmberError) in
            try check(ember_session_kv_clear(core.handle))
        }
    }

    /// Drops positions p0..<p1 of a sequence (sequence < 0: every one; p0 < 0: from 0; p1 < 0: to the end).
    public func kvRemove(sequence: Int = -1, from p0: Int = -1, to p1: Int = -1) throws(EmberError) {
        let place = "Ember.Session.kvRemove"
        try core.exclusive(place) { () throws(EmberError) in
            try check(ember_session_kv_remove(core.handle, try int32Arg(sequence, "sequence", place),
                                              try int32Arg(p0, "p0", place), try int32Arg(p1, "p1", place)))
        }
    }

    /// Drops every sequence but one.
    public func kvKeep(sequence: Int) throws(EmberError) {
        let place = "Ember.Session.kvKeep"
        try core.exclusive(place) { () throws(EmberError) in
            try check(ember_session_kv_keep_seq(core.handle, try int32Arg(sequence, "sequence", place)))
        }
    }

    /// Copies positions p0..<p1 of one sequence into another (p0 < 0: from 0; p1 < 0: to the end).
    public func kvCopy(from source: Int, to destination: Int, from p0: Int = -1, to p1: Int = -1) throws(EmberError) {
        let place = "Ember.Session.kvCopy"
        try core.exclusive(place) { () throws(EmberError) in
            try check(ember_session_kv_copy(core.handle, try int32Arg(source, "source", place),
                                            try int32Arg(destination, "destination", place),
                                            try int32Arg(p0, "p0", place), try int32Arg(p1, "p1", place)))
        }
    }

    /// Largest position held for a sequence, -1 if none.
    public func kvPosMax(sequence: Int = 0) throws(EmberError) -> Int {
        let place = "Ember.Session.kvPosMax"
        return try core.exclusive(place) { () throws(EmberError) in
            Int(try posMax(try int32Arg(sequence, "sequence", place)))
        }
    }

    /// Bytes of the KV cache.
    public func kvBytes() throws(EmberError) -> Int {
        try core.exclusive("Ember.Session.kvBytes") { () throws(EmberError) in
            var out = 0
            try check(ember_session_kv_bytes(core.handle, &out))
            return out
        }
    }

    private func posMax(_ seq: Int32) throws(EmberError) -> Int32 {
        var out: Int32 = -1
        try check(ember_session_kv_pos_max(core.handle, seq, &out))
        return out
    }
}

// A session is for one thread at a time: it must not become Sendable.
@available(*, unavailable)
extension Session: Sendable {}
