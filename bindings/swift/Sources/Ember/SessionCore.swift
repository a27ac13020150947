import CEmber

/// The stop request of one running call, checked by every callback of it.
/// A cancel that lands just before the C call starts is forgotten by the
/// library (each call clears its cancel request when it begins); this flag
/// is not, so such a cancel still stops the call at its first callback.
final class GenerationControl: Sendable {
    private let stopped = Locked(false)

    func stop() { stopped.withLock { $0 = true } }
    var isStopped: Bool { stopped.withLock { $0 } }
}

/// The library's session and the state that lets it be reached from more than
/// one thread safely: a busy flag that makes any overlapping call fail with
/// `.busy` instead of running (ember.h: one call at a time per session), and
/// the running call's control for cancels from other threads.
///
/// `@unchecked Sendable`: the handle is only used by the one call that holds
/// the busy flag, except for `ember_session_cancel`, which ember.h allows from
/// any thread while the session exists (this object owns it, so it does).
final class SessionCore: @unchecked Sendable {
    let handle: OpaquePointer
    let model: Model

    private struct State {
        var busy = false
        var current: GenerationControl?
        var lastStats: GenerateStats?
    }
    private let state = Locked(State())

    init(handle: OpaquePointer, model: Model) {
        self.handle = handle
        self.model = model
    }

    deinit { ember_session_free(handle) }

    /// Marks the session busy for one call; throws `.busy` if a call is running.
    func begin(_ place: String) throws(EmberError) -> GenerationControl {
        let control = GenerationControl()
        let free = state.withLock { s -> Bool in
            if s.busy { return false }
            s.busy = true
            s.current = control
            return true
        }
        guard free else {
            throw EmberError(kind: .busy, status: 0, message:
                "[\(place)] the session is running another call (a stream not yet finished?): one call at a time")
        }
        return control
    }

    func end(_ control: GenerationControl, stats: GenerateStats? = nil) {
        state.withLock { s in
            if s.current === control {
                s.busy = false
                s.current = nil
                if let stats { s.lastStats = stats }
            }
        }
    }

    /// Runs body as one call holding the busy flag.
    func exclusive<R>(_ place: String, _ body: () throws(EmberError) -> R) throws(EmberError) -> R {
        let control = try begin(place)
        defer { end(control) }
        return try body()
    }

    var lastStats: GenerateStats? { state.withLock { $0.lastStats } }

    /// Stops the running call, if any (from any thread).
    func cancel() {
        state.withLock { s in
            guard let current = s.current else { return }
            current.stop()
            _ = ember_session_cancel(handle)
        }
    }

    /// Stops the call of control if it is still the running one (a stream whose
    /// consumer went away must not cancel a later call).
    func cancel(ifCurrent control: GenerationControl) {
        state.withLock { s in
            control.stop()
            if s.current === control { _ = ember_session_cancel(handle) }
        }
    }

    /// Generates on sequence 0; each piece of text goes to sink (whole UTF-8
    /// characters) as the library makes it. Call between begin and end.
    func generate(_ prompt: Prompt, _ params: GenerateParams, control: GenerationControl, place: String,
                  sink: (String) -> Void) throws(EmberError) -> GenerateStats {
        var stats = GenerateStats.cStruct()
        try withCallbacks(params, control: control, place: place, sink: sink) { (p: inout ember_generate_params) throws(EmberError) in
            let status: ember_status
            switch prompt {
            case .text(let text):
                var bytes = Array(text.utf8)
                let n = bytes.count
                bytes.append(0)
                status = bytes.withUnsafeBufferPointer { b in
                    b.withMemoryRebound(to: CChar.self) {
                        ember_session_generate(handle, $0.baseAddress, n, &p, nil, 0, nil, &stats)
                    }
                }
            case .tokens(let tokens):
                status = tokens.withUnsafeBufferPointer {
                    ember_session_generate_tokens(handle, $0.baseAddress, $0.count, &p, nil, 0, nil, &stats)
                }
            }
            try check(status)
        }
        return GenerateStats(stats)
    }

    /// Runs body with the C parameters of params whose callbacks feed sink and
    /// stop when control is stopped; flushes the text's last bytes after it.
    func withCallbacks<R>(_ params: GenerateParams, control: GenerationControl, place: String,
                          sink: (String) -> Void,
                          _ body: (inout ember_generate_params) throws(EmberError) -> R) throws(EmberError) -> R {
        let result: Result<R, EmberError> = withoutActuallyEscaping(sink) { sink in
            let receiver = PieceReceiver(control: control, sink: sink, onPromptProgress: params.onPromptProgress)
            do throws(EmberError) {
                let r = try params.withC(place) { (p: inout ember_generate_params) throws(EmberError) -> R in
                    p.on_piece = { piece, len, userData in
                        Unmanaged<PieceReceiver>.fromOpaque(userData!).takeUnretainedValue().piece(piece, len)
                    }
                    p.on_piece_user_data = Unmanaged.passUnretained(receiver).toOpaque()
                    p.on_prompt_progress = { done, total, userData in
                        Unmanaged<PieceReceiver>.fromOpaque(userData!).takeUnretainedValue().progress(done, total)
                    }
                    p.on_prompt_progress_user_data = Unmanaged.passUnretained(receiver).toOpaque()
                    return try withExtendedLifetime(receiver) { () throws(EmberError) -> R in try body(&p) }
                }
                receiver.flush()
                return .success(r)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// What the C callbacks of one call reach through user_data.
private final class PieceReceiver {
    let control: GenerationControl
    let sink: (String) -> Void
    let onPromptProgress: (@Sendable (Int, Int) -> Bool)?
    var joiner = UTF8Joiner()

    init(control: GenerationControl, sink: @escaping (String) -> Void,
         onPromptProgress: (@Sendable (Int, Int) -> Bool)?) {
        self.control = control
        self.sink = sink
        self.onPromptProgress = onPromptProgress
    }

    func piece(_ bytes: UnsafePointer<CChar>?, _ count: Int) -> Int32 {
        if control.isStopped { return 1 }
        if let bytes, count > 0 {
            let text = joiner.add(UnsafeRawBufferPointer(start: bytes, count: count))
            if !text.isEmpty { sink(text) }
        }
        return control.isStopped ? 1 : 0
    }

    func progress(_ done: Int32, _ total: Int32) -> Int32 {
        if control.isStopped { return 1 }
        if let onPromptProgress, !onPromptProgress(Int(done), Int(total)) { return 1 }
        return 0
    }

    func flush() {
        let tail = joiner.finish()
        if !tail.isEmpty { sink(tail) }
    }
}
