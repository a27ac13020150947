import CEmber

/// Process-wide facts and settings of libember.
public enum EmberLibrary {
    /// The library's version, "MAJOR.MINOR.PATCH".
    public static var version: String { String(cString: ember_version()) }
    /// The library's ABI version (this binding is written for 1).
    public static var abiVersion: Int { Int(ember_abi_version()) }

    /// Severity of a log message.
    public enum LogLevel: Int32, Sendable, Comparable {
        case debug = 0, info, warn, error, none

        public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
    }

    /// Drops log messages below level (default `.warn`).
    public static func setLogLevel(_ level: LogLevel) throws(EmberError) {
        try check(ember_set_log_level(level.rawValue))
    }

    /// Routes the library's log messages to handler (called from any thread, one
    /// call at a time); nil restores the default (warnings and errors to stderr).
    public static func setLogHandler(_ handler: (@Sendable (LogLevel, String) -> Void)?) throws(EmberError) {
        // The C callback is installed once and reads the current handler under
        // the lock, so replacing a handler never frees one a thread is running.
        logHandler.withLock { $0 = handler }
        if handler == nil {
            try check(ember_set_log_callback(nil, nil))
        } else {
            try check(ember_set_log_callback({ level, message, _ in
                guard let handler = logHandler.withLock({ $0 }), let message else { return }
                handler(LogLevel(rawValue: level) ?? .error, String(cString: message))
            }, nil))
        }
    }
}

private let logHandler = Locked<(@Sendable (EmberLibrary.LogLevel, String) -> Void)?>(nil)
