import Ember
import Foundation
import Testing

/// The repository root: Tests/EmberTests/Fixtures.swift -> ../../../..
let repoRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// shared/ beside the repository, or $EMBER_SHARED_DIR.
let sharedDir: URL = {
    if let dir = ProcessInfo.processInfo.environment["EMBER_SHARED_DIR"], !dir.isEmpty {
        return URL(fileURLWithPath: dir)
    }
    return repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
}()

let tinyPath = sharedDir.appendingPathComponent("testdata/models/tiny-llama-f16.gguf").path

/// tests/data/bindings_expected.json: the generation every binding checks.
struct Expected: Decodable, Sendable {
    let prompt: String
    let add_special: Bool
    let parse_special: Bool
    let temperature: Float
    let n_predict: Int
    let prompt_tokens: [Int32]
    let greedy_tokens: [Int32]
    let text: String

    var params: GenerateParams {
        var p = GenerateParams()
        p.temperature = temperature
        p.maxTokens = n_predict
        p.addSpecial = add_special
        p.parseSpecial = parse_special
        return p
    }
}

let expectedResult: Result<Expected, any Error> = Result {
    let data = try Data(contentsOf: repoRoot.appendingPathComponent("tests/data/bindings_expected.json"))
    return try JSONDecoder().decode(Expected.self, from: data)
}

func expected() throws -> Expected { try expectedResult.get() }

/// One tiny model shared by the tests (a Model is Sendable: any test, task or thread may use it).
let tinyResult: Result<Model, EmberError> = Result { () throws(EmberError) in
    try Model(path: tinyPath, options: Model.Options(threads: 2))
}

func tiny() throws -> Model { try tinyResult.get() }

/// The EmberError a throwing call gives, or nil (any other error is a test failure).
func emberError<R>(_ body: () throws -> R) -> EmberError? {
    do {
        _ = try body()
        return nil
    } catch let error as EmberError {
        return error
    } catch {
        Issue.record("not an EmberError: \(error)")
        return nil
    }
}

/// Calls body on `count` threads released at once; results in order.
func onThreads<R: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> R) throws -> [R] {
    let results = Guarded([Result<R, any Error>?](repeating: nil, count: count))
    let ready = DispatchSemaphore(value: 0)
    let go = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    for i in 0..<count {
        done.enter()
        let thread = Thread {
            ready.signal()
            go.wait()
            let r = Result { try body(i) }
            results.withLock { $0[i] = r }
            done.leave()
        }
        thread.start()
    }
    for _ in 0..<count { ready.wait() }
    for _ in 0..<count { go.signal() }
    done.wait()
    return try results.withLock { $0 }.map { try $0!.get() }
}

/// A lock-guarded value for tests.
final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Resident memory of this process in bytes (Linux).
func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

/// glibc's malloc_trim(0) (not in Swift's Glibc module): returns freed heap
/// pages to the system, so resident memory shows what is still allocated.
func mallocTrim() {
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}
