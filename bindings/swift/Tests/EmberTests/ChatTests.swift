import Ember
import Foundation
import Testing

private func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite("chat")
struct ChatTests {
    @Test("chat: a reply to messages (content, finish reason, JSON form of the reply)")
    func replyFromMessages() throws {
        let session = try tiny().makeSession(Session.Options(contextSize: 256))
        let chat = try session.chat()
        #expect(try chat.usesFallbackTemplate())  // the tiny model has no template: ChatML
        var pieces: [String] = []
        let reply = try chat.reply(to: [.system("You are terse."), .user("Hello!")],
                                   params: .greedy(maxTokens: 8), onPiece: { pieces.append($0) })
        #expect(reply.finishReason == .length || reply.finishReason == .stop)
        #expect(reply.toolCalls.isEmpty)
        #expect(reply.stats.generatedTokens > 0 && reply.stats.generatedTokens <= 8)
        #expect(!pieces.isEmpty)
        #expect(pieces.joined() == reply.content, "pieces \(pieces) content \(reply.content.debugDescription) json \(reply.json)")
        let json = try jsonObject(reply.json)
        #expect(json["role"] as? String == "assistant")
        #expect(json["content"] as? String == reply.content)

        // Greedy decoding: the same conversation again gives the same reply, reusing the cache.
        let again = try chat.reply(to: [.system("You are terse."), .user("Hello!")], params: .greedy(maxTokens: 8))
        #expect(again.content == reply.content)
        #expect(again.stats.reusedTokens > 0)
    }

    @Test("chat with the JSON form: messages and tools as JSON, the reply appended for a second turn")
    func replyFromJSON() throws {
        let session = try tiny().makeSession(Session.Options(contextSize: 512))
        let chat = try Chat(session: session)
        let messages = #"[{"role": "user", "content": "What is the weather in Paris?"}]"#
        let tools = #"""
        [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
        """#
        let prompt = try chat.render(messagesJSON: messages, toolsJSON: tools)
        #expect(prompt.contains("<|im_start|>user\nWhat is the weather in Paris?<|im_end|>"))
        #expect(prompt.hasSuffix("<|im_start|>assistant\n"))

        let first = try chat.reply(messagesJSON: messages, toolsJSON: tools, params: .greedy(maxTokens: 6))
        #expect(first.finishReason == .length || first.finishReason == .stop || first.finishReason == .toolCalls)
        #expect(try jsonObject(first.json)["role"] as? String == "assistant")

        // Second turn: the history with the first reply as JSON.
        let history = try #require(JSONSerialization.jsonObject(with: Data(messages.utf8)) as? [[String: Any]])
        let next = history + [try jsonObject(first.json), ["role": "user", "content": "And in Rome?"]]
        let nextJSON = String(decoding: try JSONSerialization.data(withJSONObject: next), as: UTF8.self)
        let second = try chat.reply(messagesJSON: nextJSON, toolsJSON: tools, params: .greedy(maxTokens: 6))
        #expect(second.stats.reusedTokens > 0)
        #expect(second.stats.generatedTokens > 0)

        let bad = try #require(emberError { try chat.reply(messagesJSON: "[{", params: .greedy(maxTokens: 1)) })
        #expect(bad.kind == .invalidArgument)
    }

    @Test("a chat turn while a stream runs on its session throws busy")
    func chatBusy() async throws {
        let session = try tiny().makeSession(Session.Options(contextSize: 256))
        let chat = try session.chat()
        var p = GenerateParams.greedy(maxTokens: 32)
        p.ignoreEOS = true
        let gate = DispatchSemaphore(value: 0)
        p.onPromptProgress = { _, _ in
            gate.wait()  // holds the stream until the check is done
            gate.signal()
            return true
        }
        var iterator = session.stream("Once upon a time", p).makeAsyncIterator()
        #expect(emberError { try chat.reply(to: [.user("Hi")]) }?.kind == .busy)
        gate.signal()
        while try await iterator.next() != nil {}
        _ = try chat.reply(to: [.user("Hi")], params: .greedy(maxTokens: 2))
    }

    @Test("renderChatTemplate renders messages, and the JSON context; a broken template is invalidArgument")
    func renderTemplates() throws {
        let template = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
            + "{% if add_generation_prompt %}{{ bos_token }}assistant:{% endif %}"
        let text = try renderChatTemplate(template, messages: [.user("Hi"), .assistant("Hello")],
                                          addGenerationPrompt: true, bosToken: "<s>")
        #expect(text == "user: Hi\nassistant: Hello\n<s>assistant:")
        let fromJSON = try renderChatTemplate(
            template, contextJSON: #"{"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": false}"#)
        #expect(fromJSON == "user: Hi\n")
        let e = try #require(emberError { try renderChatTemplate("{% for %}", messages: []) })
        #expect(e.kind == .invalidArgument && !e.message.isEmpty)
        let raised = try #require(emberError {
            try renderChatTemplate("{{ raise_exception('no system role') }}", messages: [.user("x")])
        })
        #expect(raised.message.contains("no system role"))
        #expect(emberError { try Chat(session: try tiny().makeSession(), template: "{% if %}") }?.kind == .invalidArgument)
    }

    @Test("applyChatTemplate uses ChatML for a model without a template")
    func applyChatML() throws {
        let text = try tiny().applyChatTemplate([.user("Hi")])
        #expect(text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }
}
