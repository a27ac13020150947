import Ember
import Foundation
import Testing

private let prompts: [(String, Float, UInt64?)] = [
    ("Once upon a time, there was a little robot who", 0, nil),
    ("The capital of France is", 0.9, 1234),
]

private func params(_ i: Int) -> GenerateParams {
    var p = GenerateParams.greedy(maxTokens: 24)
    p.temperature = prompts[i].1
    p.seed = prompts[i].2
    return p
}

@Suite("threads")
struct ThreadTests {
    @Test("two threads, each with its own session over one shared model, get exactly the text each gets alone")
    func twoThreadsOwnSessions() throws {
        let model = try tiny()
        let options = Session.Options(contextSize: 128, threads: 1)
        var alone: [String] = []
        for i in prompts.indices {
            alone.append(try model.makeSession(options).generate(prompt: prompts[i].0, params: params(i)).text)
        }
        #expect(alone[0] != alone[1])
        for _ in 0..<3 {
            let together = try onThreads(prompts.count) { i in
                let session = try model.makeSession(options)  // made on, and used by, this thread only
                let first = try session.generate(prompt: prompts[i].0, params: params(i)).text
                try session.kvClear()
                let second = try session.generate(prompt: prompts[i].0, params: params(i)).text
                #expect(first == second)
                return first
            }
            #expect(together == alone)
        }
    }

    @Test("concurrent tasks share one Model (Sendable), each streaming from its own session")
    func tasksShareModel() async throws {
        let model = try tiny()
        let alone = try model.generate(prompt: prompts[0].0, params: params(0)).text
        let texts = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let session = try model.makeSession(Session.Options(contextSize: 128, threads: 1))
                    var text = ""
                    for try await piece in session.stream(prompts[0].0, params(0)) { text += piece }
                    return text
                }
            }
            var all: [String] = []
            for try await t in group { all.append(t) }
            return all
        }
        #expect(texts == [alone, alone, alone])
    }

    @Test("model calls (tokenize, metadata, generate) run from several threads at once")
    func modelCallsConcurrently() throws {
        let model = try tiny()
        let want = try expected()
        let results = try onThreads(4) { _ in
            let ids = try model.tokenize(want.prompt)
            let arch = try model.metadata("general.architecture")
            let text = try model.generate(prompt: want.prompt, params: want.params,
                                          sessionOptions: Session.Options(contextSize: 64, threads: 1)).text
            return "\(ids)|\(arch ?? "")|\(text)"
        }
        #expect(Set(results).count == 1)
        #expect(results[0].hasSuffix("|llama|" + want.text))
    }
}
