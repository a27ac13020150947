import CEmber

/// The error every failing call throws: the kind of failure (one per
/// `ember_status`, plus `.busy` for a session that is already running a call)
/// and the library's message (`ember_last_error()` of that call), which names
/// the place: `"[ember_model_load] /x.gguf: No such file or directory"`.
public struct EmberError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// EMBER_ERR_INVALID_ARGUMENT: a bad parameter (`topP = 2`, an out-of-range token id).
        case invalidArgument
        /// EMBER_ERR_INVALID_FILE: a malformed or truncated model file.
        case invalidFile
        /// EMBER_ERR_IO: the operating system refused (open, mmap, read); also a missing file.
        case io
        /// EMBER_ERR_UNSUPPORTED: valid input ember cannot handle (yet).
        case unsupported
        /// EMBER_ERR_CANCELLED: a callback or a cancel request stopped the call.
        case cancelled
        /// EMBER_ERR_OUT_OF_MEMORY.
        case outOfMemory
        /// EMBER_ERR_BUFFER_TOO_SMALL (the binding sizes its buffers itself: seeing it is a bug).
        case bufferTooSmall
        /// EMBER_ERR_INTERNAL: a bug in ember; please report it with the message.
        case `internal`
        /// EMBER_ERR_NOT_FOUND: a metadata key or chat template the model does not have.
        case notFound
        /// The session (or its chat) is running another call, e.g. a stream not yet finished.
        /// Raised by the binding, not the library.
        case busy
        /// A status this binding does not know (a newer library).
        case unknown(Int32)
    }

    /// What failed.
    public let kind: Kind
    /// The `ember_status` code (negative); 0 for `.busy`, which the binding raises itself.
    public let status: Int32
    /// The library's message (or the binding's, in the same "[place] what" form).
    public let message: String

    public init(kind: Kind, status: Int32, message: String) {
        self.kind = kind
        self.status = status
        self.message = message
    }

    public var description: String { message }

    static func kind(of status: ember_status) -> Kind {
        switch Int(status) {
        case EMBER_ERR_INVALID_ARGUMENT: return .invalidArgument
        case EMBER_ERR_INVALID_FILE: return .invalidFile
        case EMBER_ERR_IO: return .io
        case EMBER_ERR_UNSUPPORTED: return .unsupported
        case EMBER_ERR_CANCELLED: return .cancelled
        case EMBER_ERR_OUT_OF_MEMORY: return .outOfMemory
        case EMBER_ERR_BUFFER_TOO_SMALL: return .bufferTooSmall
        case EMBER_ERR_INTERNAL: return .internal
        case EMBER_ERR_NOT_FOUND: return .notFound
        default: return .unknown(status)
        }
    }

    /// The error of a failed call, with this thread's `ember_last_error()`.
    /// Must run on the thread that made the call, right after it.
    static func last(_ status: ember_status) -> EmberError {
        var message = String(cString: ember_last_error())
        if message.isEmpty { message = String(cString: ember_status_string(status)) }
        return EmberError(kind: kind(of: status), status: status, message: message)
    }

    /// An error the binding raises itself (bad Swift-side input), as the library would.
    static func invalidArgument(_ message: String) -> EmberError {
        EmberError(kind: .invalidArgument, status: ember_status(EMBER_ERR_INVALID_ARGUMENT), message: message)
    }
}
