import Ember
import Foundation
import Testing

@Suite("generation")
struct GenerateTests {
    @Test("canonical greedy generation gives exactly the text of bindings_expected.json")
    func canonicalGreedy() throws {
        let want = try expected()
        let model = try tiny()
        #expect(try model.tokenize(want.prompt, addSpecial: want.add_special, parseSpecial: want.parse_special)
            == want.prompt_tokens)

        let session = try model.makeSession()
        let gen = try session.generate(prompt: want.prompt, params: want.params)
        #expect(gen.text == want.text)
        #expect(gen.text == " divs divs divs divs divs")
        #expect(gen.stats.stopReason == .length)
        #expect(gen.stats.promptTokens == want.prompt_tokens.count)
        #expect(gen.stats.generatedTokens == want.n_predict)
        #expect(session.lastStats == gen.stats)

        // The same from token ids, in a fresh session, and through Model.generate.
        let fromTokens = try model.makeSession().generate(tokens: want.prompt_tokens, params: want.params)
        #expect(fromTokens.text == want.text)
        #expect(try model.generate(prompt: want.prompt, params: want.params).text == want.text)
    }

    @Test("the default parameters are the library's")
    func defaults() {
        let p = GenerateParams()
        #expect(p.temperature == 0.8 && p.topK == 40 && p.topP == 0.95 && p.minP == 0.05)
        #expect(p.typicalP == 1 && p.repeatPenalty == 1 && p.repeatLastN == 64 && p.maxTokens == 256)
        #expect(p.seed == nil && p.addSpecial && !p.parseSpecial && !p.ignoreEOS)
        #expect(EmberLibrary.abiVersion == 1)
        #expect(EmberLibrary.version.split(separator: ".").count == 3)
    }

    @Test("a second generation reuses the cached prompt prefix and gives the same text")
    func prefixReuse() throws {
        let want = try expected()
        let session = try tiny().makeSession()
        let first = try session.generate(prompt: want.prompt, params: want.params)
        let second = try session.generate(prompt: want.prompt, params: want.params)
        #expect(first.text == second.text)
        #expect(second.stats.reusedTokens > 0)
    }

    @Test("a fixed seed repeats the sampled text")
    func seeds() throws {
        var p = GenerateParams()
        p.temperature = 0.9
        p.seed = 1234
        p.maxTokens = 16
        let model = try tiny()
        let a = try model.generate(prompt: "The capital of France is", params: p).text
        let b = try model.generate(prompt: "The capital of France is", params: p).text
        #expect(a == b && !a.isEmpty)
    }

    @Test("stop strings and logit bias shape the text")
    func stopAndBias() throws {
        let want = try expected()
        let model = try tiny()
        var p = want.params
        p.stop = [" divs divs"]
        let stopped = try model.generate(prompt: want.prompt, params: p)
        #expect(stopped.text == "")
        #expect(stopped.stats.stopReason == .stopString)

        p = want.params
        p.logitBias = [want.greedy_tokens[0]: -Float.infinity]
        let banned = try model.generate(prompt: want.prompt, params: p)
        #expect(!banned.text.contains("divs"))
    }

    @Test("streamed pieces, joined, equal the generated text")
    func streamJoinsToText() async throws {
        let model = try tiny()
        for seeded in [false, true] {
            var p = GenerateParams.greedy(maxTokens: 24)
            if seeded {
                p.temperature = 0.9
                p.seed = 42
            }
            let prompt = "Once upon a time, there was a little robot who"
            let session = try model.makeSession()
            let text = try session.generate(prompt: prompt, params: p).text
            try session.kvClear()
            var pieces: [String] = []
            for try await piece in session.stream(prompt, p) { pieces.append(piece) }
            #expect(pieces.joined() == text)
            #expect(pieces.count > 1)
            #expect(session.lastStats?.generatedTokens == 24)
            // The session is free again as soon as the stream has ended.
            #expect(try session.generate(prompt: prompt, params: p).text == text)
        }
    }

    @Test("cancelling the consuming task cancels the generation and frees the session")
    func streamTaskCancellation() async throws {
        let want = try expected()
        let model = try tiny()
        // Would run to the full context (4096 positions, many seconds) if not cancelled.
        let session = try model.makeSession(Session.Options(contextSize: 4096))
        var p = GenerateParams.greedy(maxTokens: -1)
        p.ignoreEOS = true
        let stream = session.stream(want.prompt, p)
        let (signal, signalled) = AsyncStream<Void>.makeStream()
        let consumer = Task {
            var n = 0
            for try await _ in stream {
                n += 1
                if n == 3 { signalled.yield() }
            }
            return n
        }
        for await _ in signal { break }
        consumer.cancel()
        let consumed = try await consumer.value
        #expect(consumed >= 3)

        // The background call stops at its next token; then the session is free.
        var stats: GenerateStats?
        for _ in 0..<1000 {
            stats = session.lastStats
            if stats != nil { break }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let s = try #require(stats)
        #expect(s.stopReason == .cancelled)
        #expect(s.generatedTokens < 4096 - want.prompt_tokens.count)
        try session.kvClear()
        #expect(try session.generate(prompt: want.prompt, params: want.params).text == want.text)
    }

    @Test("leaving a stream early with break cancels it")
    func streamBreak() async throws {
        let want = try expected()
        let session = try tiny().makeSession(Session.Options(contextSize: 4096))
        var p = GenerateParams.greedy(maxTokens: -1)
        p.ignoreEOS = true
        var n = 0
        for try await _ in session.stream(want.prompt, p) {
            n += 1
            if n == 2 { break }
        }
        var stats: GenerateStats?
        for _ in 0..<1000 {
            stats = session.lastStats
            if stats != nil { break }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(stats?.stopReason == .cancelled)
    }

    @Test("a call on a session whose stream is running throws busy")
    func busyWhileStreaming() async throws {
        let want = try expected()
        let session = try tiny().makeSession()
        var p = GenerateParams.greedy(maxTokens: 64)
        p.ignoreEOS = true
        // The stream's thread waits in the prompt callback until the checks are done.
        let gate = DispatchSemaphore(value: 0)
        var held = p
        held.onPromptProgress = { _, _ in
            gate.wait()
            gate.signal()
            return true
        }
        let stream = session.stream(want.prompt, held)  // the session is busy from here on
        let e = emberError { try session.generate(prompt: "x", params: p) }
        #expect(e?.kind == .busy)
        #expect(e?.message.contains("Ember.Session.generate") == true)
        #expect(emberError { try session.kvClear() }?.kind == .busy)
        do {
            for try await _ in session.stream("x", p) {}
            Issue.record("a second stream on a busy session ran")
        } catch let error as EmberError {
            #expect(error.kind == .busy)
        }
        gate.signal()
        var iterator = stream.makeAsyncIterator()
        while try await iterator.next() != nil {}
        #expect(session.lastStats?.generatedTokens == 64)
    }

    @Test("a Canceller stops a generation from another thread")
    func cancellerFromAnotherThread() throws {
        let want = try expected()
        let session = try tiny().makeSession(Session.Options(contextSize: 4096))
        let canceller = session.canceller
        let running = DispatchSemaphore(value: 0)
        var p = GenerateParams.greedy(maxTokens: -1)
        p.ignoreEOS = true
        p.onPromptProgress = { _, _ in
            running.signal()
            return true
        }
        let other = Thread {
            running.wait()  // the prompt is in: the generation is running
            Thread.sleep(forTimeInterval: 0.02)
            canceller.cancel()
        }
        other.start()
        let gen = try session.generate(prompt: want.prompt, params: p)
        #expect(gen.stats.stopReason == .cancelled)
        #expect(gen.stats.generatedTokens < 4096 - want.prompt_tokens.count)
        canceller.cancel()  // nothing runs: forgotten
        #expect(try session.generate(prompt: want.prompt, params: want.params).text == want.text)
    }

    @Test("prompt progress returning false stops before any token")
    func promptProgressStops() throws {
        let want = try expected()
        var p = want.params
        let calls = Guarded(0)
        p.onPromptProgress = { done, total in
            calls.withLock { $0 += 1 }
            #expect(done > 0 && done <= total)
            return false
        }
        let gen = try tiny().makeSession().generate(prompt: want.prompt, params: p)
        #expect(gen.text == "")
        #expect(gen.stats.stopReason == .cancelled)
        #expect(gen.stats.generatedTokens == 0)
        #expect(calls.withLock { $0 } >= 1)
    }
}
