import CEmber
import Foundation

/// A token id of a model's vocabulary.
public typealias Token = Int32

/// Throws the library's error for a failed status.
@inline(__always)
func check(_ status: ember_status) throws(EmberError) {
    if status != ember_status(EMBER_OK) { throw EmberError.last(status) }
}

/// Text from a call that follows ember.h's buffer convention (buf, buf_size,
/// out_len; EMBER_ERR_BUFFER_TOO_SMALL with the needed length): a first guess,
/// then the exact size. Returns the raw bytes (not necessarily valid UTF-8).
func readBytes(
    guess: Int = 256,
    _ call: (UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>) -> ember_status
) throws(EmberError) -> [UInt8] {
    var capacity = max(guess, 1)
    for _ in 0..<3 {
        var buf = [CChar](repeating: 0, count: capacity)
        var needed = 0
        let status = buf.withUnsafeMutableBufferPointer { call($0.baseAddress, $0.count, &needed) }
        if status == ember_status(EMBER_OK) {
            return buf[0..<min(needed, capacity - 1)].map { UInt8(bitPattern: $0) }
        }
        if status != ember_status(EMBER_ERR_BUFFER_TOO_SMALL) { throw EmberError.last(status) }
        capacity = needed + 1
    }
    throw EmberError(kind: .internal, status: ember_status(EMBER_ERR_INTERNAL),
                     message: "[Ember] the library kept asking for a larger buffer")
}

/// `readBytes` decoded as UTF-8 (invalid bytes become U+FFFD).
func readText(
    guess: Int = 256,
    _ call: (UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>) -> ember_status
) throws(EmberError) -> String {
    String(decoding: try readBytes(guess: guess, call), as: UTF8.self)
}

/// `value` as an int32_t argument, or the library-style error naming it.
func int32Arg(_ value: Int, _ name: String, _ place: String) throws(EmberError) -> Int32 {
    guard let v = Int32(exactly: value) else {
        throw EmberError.invalidArgument("[\(place)] \(name) must fit in 32 bits, got \(value)")
    }
    return v
}

/// Runs body with a C array of NUL-terminated copies of strings (NULL when empty).
func withCStrings<R>(
    _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws -> R
) rethrows -> R {
    if strings.isEmpty { return try body(nil) }
    let copies: [UnsafePointer<CChar>?] = strings.map { UnsafePointer(strdup($0)) }
    defer { for p in copies { free(UnsafeMutablePointer(mutating: p)) } }
    return try copies.withUnsafeBufferPointer { try body($0.baseAddress) }
}

/// A value guarded by a lock, shareable between threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Turns a sequence of byte pieces into text without splitting a UTF-8
/// character across two pieces: an incomplete sequence at the end of a piece
/// waits for the next one. Invalid bytes become U+FFFD, as `String(decoding:)`
/// does; `generate` and `stream` both decode with this, so their texts agree.
struct UTF8Joiner {
    private var pending: [UInt8] = []

    mutating func add(_ bytes: UnsafeRawBufferPointer) -> String {
        pending.append(contentsOf: bytes)
        let keep = Self.incompleteTail(pending)
        let text = String(decoding: pending[0..<(pending.count - keep)], as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Bytes at the end of b that start a UTF-8 sequence still missing bytes.
    static func incompleteTail(_ b: [UInt8]) -> Int {
        var i = b.count - 1
        var seen = 1
        while i >= 0 && seen <= 4 {
            let byte = b[i]
            if byte & 0xC0 != 0x80 {  // a lead (or ASCII) byte
                let need: Int
                switch byte {
                case 0xC2...0xDF: need = 2
                case 0xE0...0xEF: need = 3
                case 0xF0...0xF4: need = 4
                default: need = 1  // ASCII or a byte no sequence starts with
                }
                return need > seen ? seen : 0
            }
            i -= 1
            seen += 1
        }
        return 0
    }
}
